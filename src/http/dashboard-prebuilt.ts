/**
 * The dashboard built ahead of time, in the compiled binary only: tools/build.ts replaces this
 * module's contents with the page it built (the binary has no sources to build it from). Running
 * from the sources, it is undefined and the api role builds the page on its first request.
 */
export const PREBUILT_DASHBOARD: string | undefined = undefined
