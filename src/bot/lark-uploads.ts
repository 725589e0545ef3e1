import type * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../logger.js';

/**
 * Uploads for messages: chart images (im/v1/images, ≤10 MB) and report files
 * (im/v1/files, ≤30 MB). The returned key goes into a card (`img_key`) or a file
 * message. A failed upload returns null and the caller sends without it.
 */
export interface Uploader {
  image(png: Buffer): Promise<string | null>;
  file(name: string, bytes: Buffer, fileType: 'xls' | 'pdf' | 'doc' | 'stream'): Promise<string | null>;
}

export function larkUploader(client: lark.Client, logger: Logger): Uploader {
  return {
    async image(png) {
      try {
        const r = await client.im.image.create({ data: { image_type: 'message', image: png } });
        return r?.image_key ?? null;
      } catch (e) {
        logger.warn({ err: (e as Error).message, bytes: png.length }, 'image upload failed; sending without it');
        return null;
      }
    },
    async file(name, bytes, fileType) {
      try {
        const r = await client.im.file.create({ data: { file_type: fileType, file_name: name, file: bytes } });
        return r?.file_key ?? null;
      } catch (e) {
        logger.warn({ err: (e as Error).message, name }, 'file upload failed');
        return null;
      }
    },
  };
}

/** Offline: nothing can be uploaded; cards go without images, files are saved locally by the caller. */
export const noUploads: Uploader = {
  image: async () => null,
  file: async () => null,
};
