// `cudnn-node train <image pipeline>`: argument parsing, and the preprocessing and ResNet-34
// pipelines run end to end through the CLI's main() on a small image folder this test writes
// with sharp (the transfer and localization pipelines are covered through their functions in
// applications-transfer.test.ts).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, parseArgs } from '../lib/cli.js';

let root = '';
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cli-images-'));
  const colors = [{ r: 230, g: 40, b: 40 }, { r: 40, g: 200, b: 60 }];
  for (const [c, name] of ['red', 'green'].entries()) {
    mkdirSync(join(root, name));
    for (let i = 0; i < 6; i++)
      await sharp({ create: { width: 40 + 4 * i, height: 36, channels: 3, background: colors[c] } }).jpeg().toFile(join(root, name, `${i}.jpg`));
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const capture = () => {
  const o = { out: [] as string[], err: [] as string[] };
  return { o, io: { log: (s: string) => o.out.push(s), error: (s: string) => o.err.push(s) } };
};

describe('cudnn-node train <image pipeline>', () => {
  it('parses the options and names bad ones', () => {
    expect(parseArgs(['train', 'transfer', '--data', '/d', '--image-size', '71', '--epochs', '2', '--epochs-unfrozen', '1', '--weights', 'none', '--augment', '--seed', '3', '--verbose', '0'])).toEqual({
      command: 'train-image', pipeline: 'transfer', data: '/d', imageSize: 71, epochs: 2, epochsUnfrozen: 1, weights: 'none', augment: true, seed: 3, verbose: 0,
    });
    expect(() => parseArgs(['train', 'resnet34', '--image-size', '4'])).toThrow(/--image-size: expected an integer >= 8 but received '4'/);
    expect(() => parseArgs(['train', 'resnet34', '--data'])).toThrow(/--data: expected a value but received nothing/);
    expect(() => parseArgs(['train', 'resnet34', '--lr-decay', 'step'])).toThrow(/train resnet34: unknown option '--lr-decay'/);
    expect(() => parseArgs(['train', 'vgg'])).toThrow(/train: expected a pipeline \(fashion-mnist, preprocessing, resnet34, transfer, localization\) but received 'vgg'/);
  });

  it('resnet34: trains on the image folder and reports validation accuracy', async () => {
    const c = capture();
    const code = await main(['train', 'resnet34', '--data', root, '--image-size', '32', '--batch-size', '4', '--epochs', '1', '--verbose', '0'], c.io);
    expect(c.o.err).toEqual([]);
    expect(code).toBe(0);
    const m = /^ResNet-34: validation accuracy (\d\.\d{4})$/.exec(c.o.out[c.o.out.length - 1]);
    expect(m, c.o.out.join('\n')).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(0);
    expect(Number(m![1])).toBeLessThanOrEqual(1);
  });

  it('a missing image folder is a clear error and exit status 1', async () => {
    const c = capture();
    const code = await main(['train', 'resnet34', '--data', join(root, 'nope'), '--epochs', '1', '--verbose', '0'], c.io);
    expect(code).toBe(1);
    expect(c.o.err.join('\n')).toMatch(/nope/);
  });
});
