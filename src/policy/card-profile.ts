/**
 * A card profile names a fare class (`standard`, `student`, `senior`, `over-65`, `staff_2`):
 * a binding carries one (cards/binding.ts normalises it), a gate policy keys travel windows by
 * it (`profileHours`), and the city wire and the API schema check it. One pattern for all.
 */

/** A lower-case word, up to 32 characters: the form a binding holds. */
export const PROFILE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * Whether `name` is a card profile as bindings store it (already normalised). `profileHours`
 * keys must be one: a key no card can carry (`Senior`, `toString`, `__proto__`) would never
 * match and is refused at start instead.
 */
export function isProfileName(name: string): boolean {
  return PROFILE_PATTERN.test(name);
}
