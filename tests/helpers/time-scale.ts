/**
 * The one knob for every timeout in the tests. On a busy 2-core machine (CI next to other
 * jobs) work takes several times longer than on an idle laptop; HJ_TEST_TIME_SCALE=3 gives
 * every limit three times the room without touching a test. Limits are ceilings for a hung
 * test, never the expected duration: tests wait on conditions, not on clocks.
 */
const raw = Number(process.env.HJ_TEST_TIME_SCALE ?? '1');
export const TIME_SCALE = Number.isFinite(raw) && raw > 0 ? raw : 1;

export function scaled(ms: number): number {
  return Math.round(ms * TIME_SCALE);
}
