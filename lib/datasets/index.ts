// Ready-made datasets (exported as `datasets`).
export * as fashionMnist from './fashionMnist.js';
