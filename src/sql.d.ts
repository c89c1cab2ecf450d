/** SQL migrations are imported as text (Bun text imports) so the compiled binary carries them. */
declare module '*.sql' {
  const text: string
  export default text
}

/** Sample data (data/sample/*.csv) is imported as text the same way. */
declare module '*.csv' {
  const text: string
  export default text
}
