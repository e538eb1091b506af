/**
 * A minimal PNG encoder (8-bit grey or RGB, zlib from Node) and an image-grid helper for samples,
 * so `itokit sample` needs no image dependency.
 * @packageDocumentation
 */
import * as zlib from 'zlib';
import { InvalidArgumentError } from '../errors';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const b = Buffer.alloc(12 + data.length);
  b.writeUInt32BE(data.length, 0);
  b.write(type, 4, 'ascii');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(b, 8);
  b.writeUInt32BE(crc32(b.subarray(4, 8 + data.length)), 8 + data.length);
  return b;
}

/** Encodes 8-bit pixels (row-major, `channels` interleaved: 1 grey, 3 RGB) as a PNG file. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  if (pixels.length !== width * height * channels) throw new InvalidArgumentError('pixel buffer does not match width*height*channels');
  const raw = Buffer.alloc((width * channels + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * channels + 1)] = 0; // filter: none
    Buffer.from(pixels.buffer, pixels.byteOffset + y * width * channels, width * channels).copy(raw, y * (width * channels + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * Lays out B images [B, C, H, W] (values in [−1, 1]) as a grid PNG, each pixel scaled up by
 * `scale` (nearest), with a 1-image-pixel gap.
 */
export function gridPng(x: Float32Array, shape: [number, number, number, number], o: { scale?: number; columns?: number } = {}): Buffer {
  const [B, C, H, W] = shape;
  if (C !== 1 && C !== 3) throw new InvalidArgumentError(`only 1- or 3-channel images can be written as PNG, got ${C}`);
  const s = o.scale ?? 4;
  const cols = o.columns ?? Math.ceil(Math.sqrt(B));
  const rows = Math.ceil(B / cols);
  const gap = s;
  const Wp = cols * (W * s + gap) + gap, Hp = rows * (H * s + gap) + gap;
  const px = new Uint8Array(Wp * Hp * C).fill(40);
  for (let b = 0; b < B; b++) {
    const ox = gap + (b % cols) * (W * s + gap), oy = gap + Math.floor(b / cols) * (H * s + gap);
    for (let y = 0; y < H * s; y++)
      for (let xx = 0; xx < W * s; xx++)
        for (let c = 0; c < C; c++) {
          const v = x[((b * C + c) * H + Math.floor(y / s)) * W + Math.floor(xx / s)];
          px[((oy + y) * Wp + ox + xx) * C + c] = Math.round(255 * Math.min(1, Math.max(0, v / 2 + 0.5)));
        }
  }
  return encodePng(px, Wp, Hp, C as 1 | 3);
}
