/**
 * A card profile names a fare class (`standard`, `student`, `senior`, `over-65`, `staff_2`):
 * a binding carries one (cards/binding.ts normalises it), a gate policy keys travel windows by
 * it (`profileHours`), and the city wire and the API schema check it. One pattern for all.
 */

/** A lower-case word, up to 32 characters: the form a binding holds. */
export const PROFILE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
