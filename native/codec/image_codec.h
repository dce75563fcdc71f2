// image_codec.h: JPEG and PNG decoding and encoding, and GIF decoding, for tf.node
// (lib/node/image.ts), on the system's libjpeg-turbo, libpng and giflib. Plain C++ with no
// N-API: native/binding/codec_binding.cc is the glue. Every function reports failure by returning a non-empty message (the codec's
// own words, e.g. libjpeg's "Not a JPEG file: starts with 0x89 0x50"); none throws, aborts
// or exits on corrupt data (Note [codec errors]).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cn {
namespace codec {

// Interleaved 8-bit pixels, row-major [frames, height, width, channels] (frames is 1 except
// for an animated GIF).
struct Image {
  std::vector<uint8_t> pixels;
  int height = 0, width = 0, channels = 0;
  int frames = 1;
};

// TensorFlow's DecodeJpeg attributes, with its defaults.
struct JpegDecodeOptions {
  int channels = 0;  // 0: as stored (1 for grayscale, else 3); 1; 3
  int ratio = 1;     // 1, 2, 4, 8: decode downscaled
  bool fancy_upscaling = true;
  bool try_recover_truncated = false;
  float acceptable_fraction = 1.0f;
  bool accurate_dct = false;  // dctMethod 'INTEGER_ACCURATE'; '' and 'INTEGER_FAST' are the fast one
};

// TensorFlow's EncodeJpeg attributes, with its defaults.
struct JpegEncodeOptions {
  int quality = 95;
  bool progressive = false;
  bool optimize_size = false;
  bool chroma_downsampling = true;
  bool density_in_cm = false;  // densityUnit 'cm' (else 'in')
  int x_density = 300, y_density = 300;
  std::string xmp_metadata;
};

std::string decode_jpeg(const uint8_t* data, size_t size, const JpegDecodeOptions& opt, Image* out);
std::string encode_jpeg(const Image& image, const JpegEncodeOptions& opt, std::vector<uint8_t>* out);

// channels: 0 (as stored: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; a palette gives 3, or 4 with
// transparency), 1, 2, 3 or 4. 16-bit samples keep their high byte, as TensorFlow's uint8 output.
std::string decode_png(const uint8_t* data, size_t size, int channels, Image* out);
// compression: zlib level 0-9, or -1 for zlib's default.
std::string encode_png(const Image& image, int compression, std::vector<uint8_t>* out);

// Every frame of a GIF as RGB [frames, height, width, 3], composed as TensorFlow's DecodeGif
// composes them: each frame starts from the previous one, its rectangle and transparent
// index applied on top (disposal methods are ignored, as there), black where the first frame
// leaves the canvas uncovered. first_frame_only stops after frame 0.
std::string decode_gif(const uint8_t* data, size_t size, bool first_frame_only, Image* out);

}  // namespace codec
}  // namespace cn
