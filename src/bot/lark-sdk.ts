import { createRequire } from 'node:module';
import type * as LarkSdk from '@larksuiteoapi/node-sdk';

/**
 * The Lark SDK, loaded with require rather than import: it ships one 6 MB
 * CommonJS bundle, and the ESM path (under tsx) costs about 70 MB more
 * resident memory than require does (measured: 104 MB against 35 MB), which
 * matters for issue 5's 400 MB target. Same module, same API.
 */
export const lark = createRequire(import.meta.url)('@larksuiteoapi/node-sdk') as typeof LarkSdk;
