/**
 * Reads just enough of an EXIF block (as sharp's metadata().exif gives it, "Exif\0\0" then a TIFF
 * structure) to tell whether it has a GPS IFD: IFD0's tag 0x8825 points at one.
 */
export function hasGpsIfd(exif: Uint8Array | undefined): boolean {
  if (!exif) return false;
  const bytes = Buffer.from(exif);
  const tiff = bytes.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? bytes.subarray(6) : bytes;
  const little = tiff.subarray(0, 2).toString('latin1') === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd0 = u32(4);
  const entries = u16(ifd0);
  for (let i = 0; i < entries; i++) {
    if (u16(ifd0 + 2 + i * 12) === 0x8825) return true;
  }
  return false;
}
