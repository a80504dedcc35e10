import { describe, expect, it } from "vitest";
import { chooseThumbnailSize, parseThumbnailSizes, planThumbnail, SPEC_THUMBNAIL_SIZES } from "./thumbnail-size";

describe("chooseThumbnailSize (spec: § Thumbnails)", () => {
  it("picks the smallest size of the method that covers the request", () => {
    expect(chooseThumbnailSize(SPEC_THUMBNAIL_SIZES, 64, 64, "crop")).toEqual({ width: 96, height: 96, method: "crop" });
    expect(chooseThumbnailSize(SPEC_THUMBNAIL_SIZES, 32, 32, "crop")).toEqual({ width: 32, height: 32, method: "crop" });
    expect(chooseThumbnailSize(SPEC_THUMBNAIL_SIZES, 64, 64, "scale")).toEqual({ width: 320, height: 240, method: "scale" });
    expect(chooseThumbnailSize(SPEC_THUMBNAIL_SIZES, 321, 100, "scale")).toEqual({ width: 640, height: 480, method: "scale" });
  });

  it("falls back to the largest when none covers it, and to other methods when the method has no size", () => {
    expect(chooseThumbnailSize(SPEC_THUMBNAIL_SIZES, 2000, 2000, "scale")).toEqual({ width: 800, height: 600, method: "scale" });
    expect(chooseThumbnailSize(SPEC_THUMBNAIL_SIZES, 200, 200, "crop")).toEqual({ width: 96, height: 96, method: "crop" });
    expect(chooseThumbnailSize([{ width: 50, height: 50, method: "scale" }], 10, 10, "crop")).toEqual({ width: 50, height: 50, method: "scale" });
  });

  it("parses configured sizes", () => {
    expect(parseThumbnailSizes("32x32 crop, 640x480 scale")).toEqual([
      { width: 32, height: 32, method: "crop" },
      { width: 640, height: 480, method: "scale" },
    ]);
    for (const bad of ["", "32x32", "0x32 crop", "32x32 fit", "32*32 crop"]) expect(parseThumbnailSizes(bad), bad).toBeUndefined();
  });
});

describe("planThumbnail", () => {
  it("scale keeps the aspect ratio inside the box", () => {
    expect(planThumbnail(640, 480, { width: 64, height: 64, method: "scale" })).toMatchObject({ width: 64, height: 48, resizeWidth: 64, resizeHeight: 48 });
    expect(planThumbnail(480, 640, { width: 64, height: 64, method: "scale" })).toMatchObject({ width: 48, height: 64 });
    expect(planThumbnail(1000, 10, { width: 32, height: 32, method: "scale" })).toMatchObject({ width: 32, height: 1 });
  });

  it("crop fills the box exactly, centred", () => {
    expect(planThumbnail(640, 480, { width: 64, height: 64, method: "crop" })).toEqual({ resizeWidth: 85, resizeHeight: 64, cropX: 10, cropY: 0, width: 64, height: 64 });
    expect(planThumbnail(480, 640, { width: 96, height: 96, method: "crop" })).toEqual({ resizeWidth: 96, resizeHeight: 128, cropX: 0, cropY: 16, width: 96, height: 96 });
  });

  it("never upscales", () => {
    expect(planThumbnail(20, 10, { width: 800, height: 600, method: "scale" })).toMatchObject({ width: 20, height: 10, resizeWidth: 20, resizeHeight: 10 });
    expect(planThumbnail(20, 10, { width: 96, height: 96, method: "crop" })).toEqual({ resizeWidth: 20, resizeHeight: 10, cropX: 0, cropY: 0, width: 20, height: 10 });
    expect(planThumbnail(200, 10, { width: 32, height: 32, method: "crop" })).toEqual({ resizeWidth: 200, resizeHeight: 10, cropX: 84, cropY: 0, width: 32, height: 10 });
  });
});
