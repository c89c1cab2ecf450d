import { type SchemaOptions, type TLiteral, type TUnion, Type } from '@sinclair/typebox'

type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> }

/** A TypeBox union of string literals from an `as const` tuple, typed as that exact union. */
export const literalUnion = <const T extends readonly string[]>(values: T, options: SchemaOptions = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<Literals<T>>
