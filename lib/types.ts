// tfjs' TypeScript type names (Scalar, Tensor1D ... Tensor6D, TensorContainer, DataType, ...),
// so a typed tfjs-node program compiles with only its import changed. They are aliases:
// ranks are checked when an op runs, not by the type checker (Note [rank types]).
import type { DType, NestedArray, Rank, Tensor } from './tensor.js';

// Note [rank types]: tfjs' Tensor1D ... Tensor6D are Tensor<Rank.R1> ... and differ only in
// their type argument, which no member uses, so any tensor is assignable to any of them,
// as in tfjs (where `x as Tensor2D` is the usual way to narrow).

/** A rank-0 tensor (tfjs Scalar). */
export type Scalar = Tensor<Rank.R0>;
/** A rank-1 tensor (tfjs Tensor1D). */
export type Tensor1D = Tensor<Rank.R1>;
/** A rank-2 tensor (tfjs Tensor2D). */
export type Tensor2D = Tensor<Rank.R2>;
/** A rank-3 tensor (tfjs Tensor3D). */
export type Tensor3D = Tensor<Rank.R3>;
/** A rank-4 tensor, e.g. NHWC images (tfjs Tensor4D). */
export type Tensor4D = Tensor<Rank.R4>;
/** A rank-5 tensor (tfjs Tensor5D). */
export type Tensor5D = Tensor<Rank.R5>;
/** A rank-6 tensor (tfjs Tensor6D). */
export type Tensor6D = Tensor<Rank.R6>;

/** tfjs DataType: the element types this library has ('float32', 'int32', 'bool'). */
export type DataType = DType;
/** tfjs NumericDataType. */
export type NumericDataType = 'float32' | 'int32' | 'bool';
/** A typed array of tensor values. */
export type TypedArray = Float32Array | Int32Array | Uint8Array;
/** tfjs RecursiveArray: nested arrays of T. */
export interface RecursiveArray<T> {
  [index: number]: T | RecursiveArray<T>;
}
/** Values tensor() accepts (tfjs' TensorLike without strings). */
export type TensorValues = NestedArray | TypedArray;
/** Plain values of rank 1 ... 6 (tfjs TensorLike1D ... TensorLike6D). */
export type TensorLike1D = number[] | boolean[] | TypedArray;
/** Plain values of rank 2. */
export type TensorLike2D = number[][] | boolean[][] | number[] | TypedArray;
/** Plain values of rank 3. */
export type TensorLike3D = number[][][] | number[] | TypedArray;
/** Plain values of rank 4. */
export type TensorLike4D = number[][][][] | number[] | TypedArray;
/** Plain values of rank 5. */
export type TensorLike5D = number[][][][][] | number[] | TypedArray;
/** Plain values of rank 6. */
export type TensorLike6D = number[][][][][][] | number[] | TypedArray;
/** A map from names to tensors (tfjs NamedTensorMap). */
export interface NamedTensorMap {
  [name: string]: Tensor;
}
/** A tensor, or arrays and records of them and of plain values (tfjs TensorContainer): what tidy() and datasets hold. */
export type TensorContainer = void | Tensor | string | number | boolean | TensorContainerObject | TensorContainerArray | Float32Array | Int32Array | Uint8Array;
/** A record of TensorContainers. */
export interface TensorContainerObject {
  [x: string]: TensorContainer;
}
/** An array of TensorContainers. */
export interface TensorContainerArray extends Array<TensorContainer> {}
/** tfjs ShapeMap: the shape tuple of each rank. */
export interface ShapeMap {
  R0: number[];
  R1: [number];
  R2: [number, number];
  R3: [number, number, number];
  R4: [number, number, number, number];
  R5: [number, number, number, number, number];
  R6: [number, number, number, number, number, number];
}
