import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { folderDataset } from './folder-dataset';

const root = mkdtempSync(join(tmpdir(), 'segtune-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function png(w: number, h: number, px: (x: number, y: number) => [number, number, number]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b] = px(x, y);
      const o = (y * w + x) * 4;
      p.data[o] = r;
      p.data[o + 1] = g;
      p.data[o + 2] = b;
      p.data[o + 3] = 255;
    }
  return PNG.sync.write(p);
}

/** A dataset folder of n samples: the mask is class (x + y) % classes, the image's red channel shows it. */
function makeFolder(name: string, n: number, o: { w?: number; h?: number; classes?: number; jpegFirst?: boolean } = {}): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  const w = o.w ?? 8;
  const h = o.h ?? 6;
  const k = o.classes ?? 3;
  for (let i = 0; i < n; i++) {
    const cls = (x: number, y: number) => (x + y + i) % k;
    if (o.jpegFirst && i === 0) {
      const data = Buffer.alloc(w * h * 4, 128);
      writeFileSync(join(dir, 'images', `s${i}.jpg`), jpeg.encode({ data, width: w, height: h }, 90).data);
    } else {
      writeFileSync(join(dir, 'images', `s${i}.png`), png(w, h, (x, y) => [cls(x, y) * 60, 10, 200]));
    }
    writeFileSync(join(dir, 'masks', `s${i}.png`), png(w, h, (x, y) => [cls(x, y), cls(x, y), cls(x, y)]));
  }
  return dir;
}

describe('folder dataset', () => {
  it('reads PNG and JPEG images with their index masks and splits them', () => {
    const dir = makeFolder('ok', 5, { jpegFirst: true });
    const ds = folderDataset({ path: dir, valFraction: 0.4, seed: 1 });
    expect(ds.numClasses).toBe(3);
    expect([ds.height, ds.width, ds.channels]).toEqual([6, 8, 3]);
    expect(ds.train.count + ds.val.count).toBe(5);
    expect(ds.val.count).toBe(2);
    // Pixels agree with masks for PNG samples: red = class * 60 / 255.
    let checked = 0;
    for (const split of [ds.train, ds.val]) {
      for (let s = 0; s < split.count; s++) {
        const img = split.images.subarray(s * 48 * 3, (s + 1) * 48 * 3);
        if (Math.abs(img[2] - 200 / 255) > 1e-6) continue; // the JPEG sample
        for (let i = 0; i < 48; i++) expect(img[i * 3]).toBeCloseTo((split.masks[s * 48 + i] * 60) / 255, 6);
        checked++;
      }
    }
    expect(checked).toBe(4);
  });

  it('fails with one line for a missing mask', () => {
    const dir = makeFolder('missing', 3);
    unlinkSync(join(dir, 'masks', 's1.png'));
    expect(() => folderDataset({ path: dir })).toThrow(/^folder dataset: no mask for .*s1\.png \(expected .*masks\/s1\.png\)$/);
  });

  it('fails with one line for an image and mask of different sizes', () => {
    const dir = makeFolder('size', 3);
    writeFileSync(join(dir, 'masks', 's2.png'), png(5, 5, () => [0, 0, 0]));
    expect(() => folderDataset({ path: dir })).toThrow(/s2\.png is 5x5 but its image s2\.png is 8x6/);
  });

  it('fails with one line for a class index out of range', () => {
    const dir = makeFolder('range', 3, { classes: 4 });
    expect(() => folderDataset({ path: dir, numClasses: 3 })).toThrow(/has class index 3 at pixel \(\d+, \d+\); allowed 0\.\.2 \(num_classes 3\)/);
  });

  it('names the problem for a missing folder, RGB masks and differing image sizes', () => {
    expect(() => folderDataset({ path: join(root, 'nope') })).toThrow(/is not a folder \(expected images\/ and masks\/ under/);
    const dir = makeFolder('rgb', 2);
    writeFileSync(join(dir, 'masks', 's0.png'), png(8, 6, () => [1, 2, 3]));
    expect(() => folderDataset({ path: dir })).toThrow(/is an RGB colour image; masks must be indexed or greyscale PNGs/);
    const dir2 = makeFolder('sizes', 2);
    writeFileSync(join(dir2, 'images', 's1.png'), png(4, 4, () => [0, 0, 0]));
    writeFileSync(join(dir2, 'masks', 's1.png'), png(4, 4, () => [1, 1, 1]));
    expect(() => folderDataset({ path: dir2 })).toThrow(/set image_size to resize them all/);
    const resized = folderDataset({ path: dir2, imageSize: 4 });
    expect([resized.height, resized.width]).toEqual([4, 4]);
  });
});
