// png_codec.cc: PNG decode/encode on libpng, with TensorFlow's DecodePng / EncodePng channel
// conversions (png_set_* transforms: palette and tRNS expanded, alpha added or stripped,
// RGB to gray with the 601 weights, 16-bit samples stripped to their high byte) so
// tf.node results match tfjs-node's. Errors: libpng's error callback longjmps back here
// (Note [codec errors] in jpeg_codec.cc); warnings are dropped, as TensorFlow drops them.
#include <png.h>
#include <zlib.h>

#include <csetjmp>
#include <cstring>

#include "image_codec.h"

namespace cn {
namespace codec {
namespace {

struct Reader {
  const uint8_t* data;
  size_t left;
};

struct ErrorState {
  char message[200];
};

void on_error(png_structp png, png_const_charp msg) {
  auto* e = static_cast<ErrorState*>(png_get_error_ptr(png));
  std::strncpy(e->message, msg, sizeof e->message - 1);
  e->message[sizeof e->message - 1] = 0;
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void read_bytes(png_structp png, png_bytep dst, png_size_t n) {
  auto* r = static_cast<Reader*>(png_get_io_ptr(png));
  if (n > r->left) png_error(png, "premature end of PNG data");
  std::memcpy(dst, r->data, n);
  r->data += n;
  r->left -= n;
}

void write_bytes(png_structp png, png_bytep src, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), src, src + n);
}

void flush_bytes(png_structp) {}

}  // namespace

std::string decode_png(const uint8_t* data, size_t size, int channels, Image* out) {
  if (size < 8 || png_sig_cmp(const_cast<png_bytep>(data), 0, 8) != 0) return "not a PNG file (bad signature)";
  ErrorState err{};
  Reader reader{data, size};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, on_error, on_warning);
  if (!png) return "out of memory";
  png_infop info = nullptr;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    return err.message;
  }
  info = png_create_info_struct(png);
  if (!info) png_error(png, "out of memory");
  png_set_read_fn(png, &reader, read_bytes);
  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  const bool has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  if (channels == 0) {
    channels = color_type == PNG_COLOR_TYPE_PALETTE ? (has_trns ? 4 : 3) : png_get_channels(png, info);
  }
  const bool has_alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0;
  if (channels % 2 == 0) {  // 2 or 4: alpha wanted
    if (!has_alpha) {
      if (has_trns) png_set_tRNS_to_alpha(png);
      else png_set_add_alpha(png, (1u << bit_depth) - 1, PNG_FILLER_AFTER);
    }
  } else if (has_alpha || has_trns) {
    png_set_strip_alpha(png);
  }
  if (bit_depth > 8) png_set_strip_16(png);
  png_set_packing(png);
  const int passes = png_set_interlace_handling(png);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  const bool is_gray = (color_type & PNG_COLOR_MASK_COLOR) == 0;
  if (is_gray && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (channels < 3) {
    if (!is_gray) png_set_rgb_to_gray(png, 1, 0.299, 0.587);  // ITU-R 601, as JPEG and TensorFlow
  } else if (is_gray) {
    png_set_gray_to_rgb(png);
  }
  png_read_update_info(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  if (row_bytes != (size_t)width * channels) png_error(png, "unexpected row size after the channel conversion");
  out->pixels.resize(row_bytes * height);
  for (int p = 0; p < passes; ++p) {
    for (png_uint_32 y = 0; y < height; ++y) png_read_row(png, out->pixels.data() + y * row_bytes, nullptr);
  }
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  out->height = (int)height;
  out->width = (int)width;
  out->channels = channels;
  return "";
}

std::string encode_png(const Image& image, int compression, std::vector<uint8_t>* out) {
  static const int kColorType[5] = {-1, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                    PNG_COLOR_TYPE_RGB_ALPHA};
  if (image.channels < 1 || image.channels > 4) return "PNG holds 1 to 4 channels";
  ErrorState err{};
  out->clear();
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, on_error, on_warning);
  if (!png) return "out of memory";
  png_infop info = nullptr;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, info ? &info : nullptr);
    return err.message;
  }
  info = png_create_info_struct(png);
  if (!info) png_error(png, "out of memory");
  png_set_write_fn(png, out, write_bytes, flush_bytes);
  png_set_compression_level(png, compression < 0 ? Z_DEFAULT_COMPRESSION : compression);
  png_set_compression_mem_level(png, MAX_MEM_LEVEL);
  png_set_IHDR(png, info, (png_uint_32)image.width, (png_uint_32)image.height, 8, kColorType[image.channels],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t row_bytes = (size_t)image.width * image.channels;
  for (int y = 0; y < image.height; ++y) {
    png_write_row(png, const_cast<png_bytep>(image.pixels.data() + y * row_bytes));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return "";
}

}  // namespace codec
}  // namespace cn
