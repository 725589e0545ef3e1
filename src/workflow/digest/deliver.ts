import type { Card } from '../../bot/cards.js';
import { noUploads, type Uploader } from '../../bot/lark-uploads.js';
import { chartRenderer, type ChartRenderer } from '../../charts/render-pool.js';
import type { Logger } from '../../logger.js';
import type { WorkflowContext } from '../context.js';
import type { Principal } from '../permissions.js';
import type { IsoDate } from '../types.js';
import { digestCard } from './card.js';
import { digestChart } from './charts.js';
import { buildDigest, type DigestData, type DigestOptions } from './data.js';

/**
 * Digest data → chart PNG → upload → card: what the scheduler sends at
 * DIGEST_TIME and `日报` answers on demand. The card is complete without the
 * picture: a failed render or upload only leaves the image out.
 */

/** Renders the digest chart (on the worker thread) and uploads it; null when there is no uploader, or rendering/uploading fails. */
export async function digestImageKey(
  data: DigestData,
  uploader: Uploader | null | undefined,
  logger?: Logger,
  renderer: ChartRenderer = chartRenderer(),
): Promise<string | null> {
  if (!uploader || uploader === noUploads) return null;
  try {
    const { option, width, height } = digestChart(data);
    return await uploader.image(await renderer.png(option, width, height));
  } catch (e) {
    logger?.warn({ err: (e as Error).message, leader: data.leader.openId }, 'digest chart failed; sending the card without it');
    return null;
  }
}

export interface ComposeOptions extends DigestOptions {
  uploader?: Uploader | null;
  dashboardUrl?: string;
  logger?: Logger;
}

export async function composeDigest(ctx: WorkflowContext, leader: Principal, date: IsoDate, opts: ComposeOptions = {}): Promise<{ data: DigestData; card: Card; imageKey: string | null }> {
  const data = buildDigest(ctx, leader, date, opts);
  const imageKey = await digestImageKey(data, opts.uploader, opts.logger);
  return { data, imageKey, card: digestCard(data, { imageKey, dashboardUrl: opts.dashboardUrl, tz: ctx.tz }) };
}
