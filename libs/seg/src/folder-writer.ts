import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { SegDataset } from './dataset';

/**
 * Writes a dataset in the `folder` loader's layout: `images/NAME.png` (RGB) and `masks/NAME.png`
 * (greyscale class indices), train samples first, then validation ones. For demos, tests and
 * benchmarks that need a user-style folder of known content.
 */
export function writeFolderDataset(ds: SegDataset, dir: string): number {
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  const hw = ds.height * ds.width;
  let n = 0;
  for (const split of [ds.train, ds.val]) {
    for (let i = 0; i < split.count; i++) {
      const img = new PNG({ width: ds.width, height: ds.height });
      const mask = new PNG({ width: ds.width, height: ds.height });
      for (let p = 0; p < hw; p++) {
        for (let c = 0; c < 3; c++) {
          const v = split.images[(i * hw + p) * ds.channels + Math.min(c, ds.channels - 1)];
          img.data[p * 4 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
          mask.data[p * 4 + c] = split.masks[i * hw + p];
        }
        img.data[p * 4 + 3] = 255;
        mask.data[p * 4 + 3] = 255;
      }
      const name = `s${String(n++).padStart(5, '0')}.png`;
      writeFileSync(join(dir, 'images', name), PNG.sync.write(img));
      writeFileSync(join(dir, 'masks', name), PNG.sync.write(mask));
    }
  }
  return n;
}
