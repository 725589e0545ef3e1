/**
 * Strong secrets for tests: start-up refuses anything shorter than 32 bytes or
 * obviously weak (src/secret-strength.ts), so tests that set DASHBOARD_SECRET
 * or METRICS_TOKEN use these. Random hex, made once with `openssl rand -hex 32`;
 * they protect nothing outside the test suite.
 */
export const TEST_DASHBOARD_SECRET = '4fe6369e04183cbeb8516d622ecd481aa4ef45f2d7c84e3fb85b978d13d587ce';
export const TEST_METRICS_TOKEN = '6cc964d5dceed08fefd7c7080f9659293c29ab09dfc362eb2c4dba4ff54d55f2';
