import DecimalBase from 'decimal.js-light'

/**
 * Exact decimals for money, quantities, prices and FX rates. Our own clone: nothing here touches
 * decimal.js-light's global configuration.
 *
 * ROUNDING RULES (the only place they are stated and applied):
 * 1. Inputs carry at most SCALE (10) decimal places; the record schemas enforce it.
 * 2. Addition and subtraction are exact.
 * 3. Every product or quotient the engine keeps (quantity × price, local × FX, cost × share sold,
 *    1 / rate) is rounded to SCALE places, half-even, where it is computed: `atScale`. Stored state
 *    is therefore exactly what the next computation reads back, which makes recompute-from-any-date
 *    give the same digits as recompute-from-the-start.
 * 4. Money the API forms (totals, allocations, P&L over a period) is rounded to the cent,
 *    half-even (banker's rounding), at the API edge only: `toCents`. Sums are formed from
 *    unrounded values first, then rounded once. Stored rows read back (positions, valuations,
 *    series) are given as stored, at SCALE places, so they reconcile with the engine.
 */
export const Decimal = DecimalBase.clone({ precision: 50, rounding: DecimalBase.ROUND_HALF_EVEN })
export type Decimal = InstanceType<typeof Decimal>

export const SCALE = 10
export const ZERO = new Decimal(0)
export const ONE = new Decimal(1)

/** Parses a decimal string the schemas already checked. */
export const dec = (s: string | number): Decimal => new Decimal(s)

/** Rule 3: the one internal rounding point. */
export const atScale = (d: Decimal): Decimal => d.toDecimalPlaces(SCALE, Decimal.ROUND_HALF_EVEN)

/**
 * Canonical wire form: plain notation, no exponent, no trailing zeros. Decimals are immutable and
 * a position's unchanged fields are the same objects from one state to the next, so each object
 * is formatted once (formatting was a third of the fold's time).
 */
const formatted = new WeakMap<Decimal, string>()
export const str = (d: Decimal): string => {
  let s = formatted.get(d)
  if (s === undefined) {
    s = d.toFixed()
    formatted.set(d, s)
  }
  return s
}

/**
 * Rule 3 in scaled integers, for the hot loops (valuation, series): a value is a BigInt of
 * 10^SCALE units. Inputs have at most SCALE places (rule 1), so parsing is exact; a product is
 * rounded half-even to SCALE places exactly as `atScale` rounds it, and formatting gives the same
 * text as `str`. So the integer path and the decimal path agree digit for digit (a property test
 * checks it).
 */
const UNIT = 10n ** BigInt(SCALE)
const HALF = UNIT / 2n
const ZEROS = '0'.repeat(SCALE)

/**
 * A decimal string in units of 10^-SCALE: at most SCALE significant places, as the schemas
 * enforce. Zeros past the SCALE-th place (PostgreSQL's text of a `numeric` it computed, such as
 * `103.07000000000000000000`) are dropped; a digit there would be silently mis-scaled, so it is
 * refused.
 */
export function toScaled(s: string): bigint {
  const point = s.indexOf('.')
  if (point < 0) return BigInt(s) * UNIT
  let fraction = s.slice(point + 1)
  if (fraction.length > SCALE) {
    if (!/^0*$/.test(fraction.slice(SCALE))) throw new RangeError(`${s} has more than ${SCALE} decimal places`)
    fraction = fraction.slice(0, SCALE)
  }
  return BigInt(s.slice(0, point) + fraction + ZEROS.slice(fraction.length))
}

/** The canonical text of a scaled value: plain notation, no trailing zeros (as `str`). */
const SAFE = BigInt(Number.MAX_SAFE_INTEGER)
export function fromScaled(n: bigint): string {
  const negative = n < 0n
  const magnitude = negative ? -n : n
  // A Number prints its digits several times faster than a BigInt, and is exact below 2^53.
  const digits = (magnitude <= SAFE ? String(Number(magnitude)) : magnitude.toString()).padStart(SCALE + 1, '0')
  const whole = digits.slice(0, -SCALE)
  let end = digits.length
  while (end > whole.length && digits.charCodeAt(end - 1) === 48) end--
  const text = end > whole.length ? `${whole}.${digits.slice(whole.length, end)}` : whole
  return negative ? `-${text}` : text
}

/**
 * The double nearest a scaled value, as `Number(fromScaled(n))` gives it. Below 2^53 both n and
 * 10^SCALE are exact doubles, so their quotient is correctly rounded: the same double, without the
 * text.
 */
const POWER = 10 ** SCALE
export const toFloat = (n: bigint): number => (n <= SAFE && n >= -SAFE ? Number(n) / POWER : Number(fromScaled(n)))

/** a × b rounded half-even to SCALE places (`atScale(a.times(b))` in scaled integers). */
export function mulScaled(a: bigint, b: bigint): bigint {
  // Times one (a rate between a currency and itself, the price of cash): nothing to round.
  if (b === UNIT) return a
  const product = a * b
  const negative = product < 0n
  const magnitude = negative ? -product : product
  let quotient = magnitude / UNIT
  const remainder = magnitude - quotient * UNIT
  if (remainder > HALF || (remainder === HALF && (quotient & 1n) === 1n)) quotient += 1n
  return negative ? -quotient : quotient
}

/** Rule 4: money as reported, to the cent, half-even. */
export const toCents = (d: Decimal): string => d.toFixed(2, Decimal.ROUND_HALF_EVEN)

/** Rule 4 on a scaled value: the same text as `toCents` gives the decimal (a test checks it). */
const PER_CENT = UNIT / 100n
export function centsOf(n: bigint): string {
  const negative = n < 0n
  const magnitude = negative ? -n : n
  let cents = magnitude / PER_CENT
  const remainder = magnitude - cents * PER_CENT
  if (remainder * 2n > PER_CENT || (remainder * 2n === PER_CENT && (cents & 1n) === 1n)) cents += 1n
  const digits = cents.toString().padStart(3, '0')
  // toFixed keeps the sign of a negative value rounded to zero ("-0.00"), as decimal.js-light does.
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`
}

/** a ÷ b as a float64 (a weight): correctly rounded while both are below 2^53 units. */
export const ratio = (a: bigint, b: bigint): number => Number(a) / Number(b)

export const sum = (values: Iterable<Decimal>): Decimal => {
  let total = ZERO
  for (const v of values) total = total.plus(v)
  return total
}
