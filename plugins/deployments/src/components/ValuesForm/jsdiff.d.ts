// jsdiff 5 ships no types and @types/diff is not installed; the same
// declaration as the backend's, of the one function used here.
declare module 'diff' {
  export function createTwoFilesPatch(
    oldFileName: string,
    newFileName: string,
    oldStr: string,
    newStr: string,
    oldHeader?: string,
    newHeader?: string,
    options?: { context?: number },
  ): string;
}
