// The engine's BSON value model, one import for the rest of the engine: the basics and type order
// (value-types), numbers (numbers), comparison (compare), canonical keys (value-keys) and
// conversions (value-convert).
export * from './value-types';
export * from './numbers';
export * from './compare';
export * from './value-keys';
export * from './value-convert';
