// gif_codec.cc: GIF decoding on giflib (DGifSlurp), every frame composed to RGB as
// TensorFlow's DecodeGif composes them (see image_codec.h), so tf.node.decodeGif matches
// tfjs-node. giflib reports errors by return value (no longjmp needed); reads are bounded by
// the input's size.
#include <gif_lib.h>

#include <algorithm>
#include <cstring>

#include "image_codec.h"

namespace cn {
namespace codec {
namespace {

struct Reader {
  const uint8_t* data;
  size_t left;
};

int read_bytes(GifFileType* gif, GifByteType* dst, int n) {
  auto* r = static_cast<Reader*>(gif->UserData);
  const size_t take = std::min<size_t>(r->left, n < 0 ? 0 : (size_t)n);
  std::memcpy(dst, r->data, take);
  r->data += take;
  r->left -= take;
  return (int)take;
}

std::string close_with(GifFileType* gif, std::string message) {
  int ignored = 0;
  DGifCloseFile(gif, &ignored);
  return message;
}

}  // namespace

std::string decode_gif(const uint8_t* data, size_t size, bool first_frame_only, Image* out) {
  Reader reader{data, size};
  int err = D_GIF_SUCCEEDED;
  GifFileType* gif = DGifOpen(&reader, read_bytes, &err);
  if (!gif) return GifErrorString(err) ? GifErrorString(err) : "cannot open the GIF";
  if (DGifSlurp(gif) != GIF_OK) return close_with(gif, GifErrorString(gif->Error) ? GifErrorString(gif->Error) : "corrupt GIF");
  if (gif->ImageCount <= 0) return close_with(gif, "the GIF holds no image");
  const int width = gif->SWidth, height = gif->SHeight;
  if (width <= 0 || height <= 0) return close_with(gif, "the GIF's screen has no pixels");
  const int frames = first_frame_only ? 1 : gif->ImageCount;
  const size_t frame_bytes = (size_t)width * height * 3;
  if (frame_bytes * frames > ((size_t)1 << 32)) return close_with(gif, "the decoded GIF would exceed 4 GiB");
  out->pixels.assign(frame_bytes * frames, 0);
  for (int k = 0; k < frames; ++k) {
    uint8_t* dst = out->pixels.data() + k * frame_bytes;
    if (k > 0) std::memcpy(dst, dst - frame_bytes, frame_bytes);  // start from the previous frame
    const SavedImage& image = gif->SavedImages[k];
    const GifImageDesc& desc = image.ImageDesc;
    GraphicsControlBlock gcb;
    gcb.TransparentColor = NO_TRANSPARENT_COLOR;
    DGifSavedExtensionToGCB(gif, k, &gcb);
    const ColorMapObject* colors = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
    if (!colors) return close_with(gif, "a frame has no color map");
    if (!image.RasterBits) return close_with(gif, "a frame has no pixels");
    const int top = std::max(desc.Top, 0), left = std::max(desc.Left, 0);
    const int bottom = std::min(desc.Top + desc.Height, height), right = std::min(desc.Left + desc.Width, width);
    for (int y = top; y < bottom; ++y) {
      for (int x = left; x < right; ++x) {
        const int index = image.RasterBits[(size_t)(y - desc.Top) * desc.Width + (x - desc.Left)];
        if (index == gcb.TransparentColor) continue;  // keeps the previous frame's pixel (black on frame 0)
        if (index >= colors->ColorCount) return close_with(gif, "a pixel's color index is outside the color map");
        uint8_t* p = dst + ((size_t)y * width + x) * 3;
        p[0] = colors->Colors[index].Red;
        p[1] = colors->Colors[index].Green;
        p[2] = colors->Colors[index].Blue;
      }
    }
  }
  out->frames = frames;
  out->height = height;
  out->width = width;
  out->channels = 3;
  int ignored = 0;
  DGifCloseFile(gif, &ignored);
  return "";
}

}  // namespace codec
}  // namespace cn
