// Test support: the local PostgreSQL trusts every connection, so a wrong password cannot be
// provoked there. This speaks just enough of the wire protocol (v3) to ask for a password and
// refuse it exactly as a real server does (ErrorResponse, SQLSTATE 28P01).
import { createServer, type Server } from 'node:net';

function errorResponse(fields: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`, 'utf8')), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** Starts the server on a free port of 127.0.0.1; resolves with the port and a closer. */
export async function startWrongPasswordServer(): Promise<{ port: number; passwordsSeen: string[]; close(): Promise<void> }> {
  const passwordsSeen: string[] = [];
  const server: Server = createServer((socket) => {
    let startup = true;
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (startup) {
        if (buf.length < 4 || buf.length < buf.readInt32BE(0)) return;
        const user = /user\0([^\0]*)\0/.exec(buf.subarray(8, buf.readInt32BE(0)).toString('utf8'))?.[1] ?? '';
        buf = buf.subarray(buf.readInt32BE(0));
        startup = false;
        // AuthenticationCleartextPassword
        const ask = Buffer.alloc(9);
        ask.write('R', 0);
        ask.writeInt32BE(8, 1);
        ask.writeInt32BE(3, 5);
        socket.write(ask);
        (socket as unknown as { user: string }).user = user;
        return;
      }
      if (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) return;
      passwordsSeen.push(buf.subarray(5, buf.readInt32BE(1)).toString('utf8').replace(/\0$/, ''));
      const user = (socket as unknown as { user: string }).user;
      socket.end(errorResponse({ S: 'FATAL', V: 'FATAL', C: '28P01', M: `password authentication failed for user "${user}"` }));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, passwordsSeen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
