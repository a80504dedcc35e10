import { PhotonImage } from "@cf-wasm/photon";
import { describe, expect, it } from "vitest";
import { readImageInfo } from "./image-info";

function image(width: number, height: number): PhotonImage {
  return new PhotonImage(new Uint8Array(width * height * 4).fill(128), width, height);
}

describe("readImageInfo", () => {
  it("reads PNG, JPEG and WebP headers written by a real encoder", () => {
    const img = image(37, 21);
    expect(readImageInfo(img.get_bytes())).toEqual({ type: "image/png", width: 37, height: 21 });
    expect(readImageInfo(img.get_bytes_jpeg(80))).toEqual({ type: "image/jpeg", width: 37, height: 21 });
    expect(readImageInfo(img.get_bytes_webp())).toEqual({ type: "image/webp", width: 37, height: 21 });
  });

  it("reads GIF and lossy WebP (VP8) headers", () => {
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x40, 0x01, 0xf0, 0x00, 0, 0, 0]);
    expect(readImageInfo(gif)).toEqual({ type: "image/gif", width: 320, height: 240 });
    const vp8 = new Uint8Array(30);
    vp8.set(new TextEncoder().encode("RIFF"), 0);
    vp8.set(new TextEncoder().encode("WEBPVP8 "), 8);
    vp8.set([0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01], 23);
    expect(readImageInfo(vp8)).toEqual({ type: "image/webp", width: 640, height: 480 });
  });

  it("skips JPEG segments before the frame header", () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x20, 0x01]);
    expect(readImageInfo(jpeg)).toEqual({ type: "image/jpeg", width: 32, height: 16 });
  });

  it("returns undefined for anything else or a truncated header", () => {
    expect(readImageInfo(new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/>"))).toBeUndefined();
    expect(readImageInfo(image(4, 4).get_bytes().subarray(0, 20))).toBeUndefined();
    expect(readImageInfo(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeUndefined();
    expect(readImageInfo(new Uint8Array(0))).toBeUndefined();
  });
});
