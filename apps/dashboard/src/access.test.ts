import { describe, expect, it } from 'vitest';
import { UserError } from '@segtune/core';
import { bearerToken, checkAccessOptions, hostHeaderIsLoopback, queryToken, tokenMatches } from './access';

describe('dashboard access', () => {
  it('listens on loopback without a token, elsewhere only with one', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1']) expect(() => checkAccessOptions({ host, port: 8080 })).not.toThrow();
    for (const host of ['0.0.0.0', '192.168.1.4', '::']) {
      expect(() => checkAccessOptions({ host, port: 8080 })).toThrow(UserError);
      expect(() => checkAccessOptions({ host, port: 8080 })).toThrow(new RegExp(`^--host: listening on ${host.replace(/\./g, '\\.')} exposes the dashboard beyond this machine; give --token`));
      expect(() => checkAccessOptions({ host, port: 8080, token: 's3cret-token' })).not.toThrow();
    }
  });

  it('refuses bad ports and weak tokens with one line naming the flag', () => {
    expect(() => checkAccessOptions({ host: '127.0.0.1', port: 70000 })).toThrow(/^--port: 70000 is not a port/);
    expect(() => checkAccessOptions({ host: '127.0.0.1', port: 1.5 })).toThrow(/^--port: /);
    expect(() => checkAccessOptions({ host: '127.0.0.1', port: 80, token: 'short' })).toThrow(/^--token: too short/);
    expect(() => checkAccessOptions({ host: '127.0.0.1', port: 80, token: 'has a space in it' })).toThrow(/^--token: only printable ASCII/);
  });

  it('reads the token from the Authorization header, else from ?token=', () => {
    expect(bearerToken({ authorization: 'Bearer abc123xyz' })).toBe('abc123xyz');
    expect(queryToken('/?token=abc%2F123')).toBe('abc/123');
    expect(bearerToken({ authorization: 'Basic Zm9vOmJhcg==' })).toBeUndefined();
    expect(bearerToken({})).toBeUndefined();
    expect(queryToken('/api/studies')).toBeUndefined();
    expect(tokenMatches('abc123xyz', 'abc123xyz')).toBe(true);
    expect(tokenMatches('abc123xyz', 'abc123xy')).toBe(false);
    expect(tokenMatches('abc123xyz', undefined)).toBe(false);
  });

  it('knows loopback Host headers (against DNS rebinding)', () => {
    expect(hostHeaderIsLoopback('127.0.0.1:8080')).toBe(true);
    expect(hostHeaderIsLoopback('localhost:8080')).toBe(true);
    expect(hostHeaderIsLoopback('[::1]:8080')).toBe(true);
    expect(hostHeaderIsLoopback('evil.example:8080')).toBe(false);
    expect(hostHeaderIsLoopback(undefined)).toBe(false);
  });
});
