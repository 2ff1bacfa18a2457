/** The number of characters a schema description states: "at most N characters", "1 to N characters" or "1–N characters"; null when it states none. */
export function statedCharacters(description: string): number | null {
  const match = /(?:at most|1 to|1–)\s*([\d,]+) characters/.exec(description);
  return match ? Number(match[1]!.replace(/,/g, '')) : null;
}
