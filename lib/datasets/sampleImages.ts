// scikit-learn's two sample photos (china.jpg, flower.jpg; 427x640, CC BY 2.0), as
// sklearn.datasets.load_sample_images: found in a given folder, $SKLEARN_IMAGES, Debian's
// python3-sklearn, or a Python's scikit-learn; decoded with sharp.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { decodeImageRaw } from '../data/imageFolder.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';

/** The two files sampleImages() reads. */
export const SAMPLE_IMAGE_NAMES = ['china.jpg', 'flower.jpg'];

/** Options of sampleImages(). */
export interface SampleImagesOptions {
  /** A folder holding china.jpg and flower.jpg (looked in first, and only there when given). */
  path?: string;
}

/** sampleImages()'s result. */
export interface SampleImages {
  /** [2, 427, 640, 3] float32, values 0..255 (scikit-learn returns uint8 0..255). */
  images: Tensor;
  /** The files read. */
  filenames: string[];
}

function pythonImagesDir(): string | null {
  for (const py of ['python3', 'python']) {
    try {
      const out = execFileSync(py, ['-c', 'import os, sklearn.datasets as d; print(os.path.join(os.path.dirname(d.__file__), "images"))'], {
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 20_000,
      });
      const dir = out.toString().trim();
      if (dir) return dir;
    } catch {
      // no Python, or no scikit-learn in it
    }
  }
  return null;
}

/** Where sampleImages() looks, in order. */
export function sampleImageDirs(): string[] {
  const dirs = [process.env.SKLEARN_IMAGES, '/usr/lib/python3/dist-packages/sklearn/datasets/images'];
  for (const v of ['3.13', '3.12', '3.11', '3.10', '3.9']) dirs.push(`/usr/local/lib/python${v}/dist-packages/sklearn/datasets/images`, `/usr/lib/python${v}/site-packages/sklearn/datasets/images`);
  return dirs.filter((d): d is string => !!d);
}

/** Loads china.jpg and flower.jpg as one [2, 427, 640, 3] batch (sklearn's load_sample_images). */
export async function sampleImages(opts: SampleImagesOptions = {}): Promise<SampleImages> {
  const has = (d: string) => SAMPLE_IMAGE_NAMES.every((f) => existsSync(join(d, f)));
  const tried = opts.path ? [opts.path] : sampleImageDirs();
  let dir = tried.find(has);
  if (!dir && !opts.path) {
    const py = pythonImagesDir();
    if (py) {
      tried.push(py);
      if (has(py)) dir = py;
    } else tried.push('(python3 -c "import sklearn": not found)');
  }
  if (!dir)
    throw new InvalidArgumentError(
      `sampleImages: expected ${SAMPLE_IMAGE_NAMES.join(' and ')} (scikit-learn's sample images) but found them in none of: ${tried.join(', ')}. ` +
        'Install Debian\'s python3-sklearn (apt-get install python3-sklearn) or scikit-learn for python3, or pass {path: folder}',
    );
  const filenames = SAMPLE_IMAGE_NAMES.map((f) => join(dir!, f));
  const raws = await Promise.all(filenames.map((f) => decodeImageRaw(f)));
  const { height, width } = raws[0];
  if (raws.some((r) => r.height !== height || r.width !== width))
    throw new InvalidArgumentError(`sampleImages: expected two images of one size but received ${raws.map((r) => `${r.height}x${r.width}`).join(' and ')} in '${dir}'`);
  const buf = new Float32Array(2 * height * width * 3);
  raws.forEach((r, k) => buf.set(r.data, k * r.data.length));
  return { images: ops.tensor(buf, [2, height, width, 3], 'float32'), filenames };
}
