// jpeg_codec.cc: JPEG decode/encode on libjpeg-turbo's libjpeg API, set up as TensorFlow's
// DecodeJpeg / EncodeJpeg set it up, so tf.node results match tfjs-node's.
//
// Note [codec errors]: libjpeg's default error handler prints and calls exit(). Each call
// here installs its own error manager whose error_exit formats the message and longjmps
// back to the setjmp in the same function; everything live across the jump is plain data
// owned by the caller (Image / std::vector arguments), so nothing is skipped that needed a
// destructor. Warnings are counted, not printed.
//
// Note [truncated JPEG]: tfjs-node (TensorFlow's jpeg_mem / jpeg_handle) treats a stream that
// ends early in two ways, and MemorySource reproduces both so results stay equal:
//   - tryRecoverTruncated false: the source suspends when the data runs out, decoding stops
//     at that row, the rows below are black, and the image is accepted when the rows read
//     are at least acceptableFraction of the height (an error otherwise);
//   - tryRecoverTruncated true: the source answers "more data" while libjpeg still holds
//     unread bytes (TensorFlow's rule, which re-reads a few bytes of the last MCU row; we
//     stop after kMaxStaleRefills, where TensorFlow can loop forever), then ends the stream
//     with a fake EOI marker so libjpeg decodes the remaining rows from nothing; if even
//     that yields no row, the last row read is repeated.
// libjpeg-turbo's own jpeg_mem_src always inserts the EOI, which differs in the last rows.
#include <csetjmp>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <jerror.h>
#include <jpeglib.h>

#include "image_codec.h"

namespace cn {
namespace codec {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void error_exit(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorManager*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}

void emit_message(j_common_ptr c, int level) {
  if (level < 0) c->err->num_warnings++;  // warnings are counted; trace messages dropped
}

void init_errors(ErrorManager* e) {
  jpeg_std_error(&e->pub);
  e->pub.error_exit = error_exit;
  e->pub.emit_message = emit_message;
  e->message[0] = 0;
}

// A libjpeg source over the whole input (Note [truncated JPEG]).
struct MemorySource {
  jpeg_source_mgr pub;
  const JOCTET* data;
  size_t size;
  bool recover;
  int stale_refills;  // "more data" answers given while libjpeg still held unread bytes
};

// TensorFlow answers "more data" with nothing new for as long as libjpeg asks, which never
// ends on some inputs (libjpeg's marker reader re-reads the same byte: a 3-byte FF D8 FF
// input hangs tfjs-node). After this many such answers the stream ends with the fake EOI.
constexpr int kMaxStaleRefills = 256;

const JOCTET kFakeEoi[2] = {0xff, JPEG_EOI};

void source_init(j_decompress_ptr cinfo) {
  auto* src = reinterpret_cast<MemorySource*>(cinfo->src);
  src->pub.next_input_byte = src->data;
  src->pub.bytes_in_buffer = src->size;
}

boolean source_fill(j_decompress_ptr cinfo) {
  auto* src = reinterpret_cast<MemorySource*>(cinfo->src);
  if (src->pub.bytes_in_buffer == 0 && src->pub.next_input_byte == src->data) ERREXIT(cinfo, JERR_INPUT_EMPTY);
  if (src->pub.bytes_in_buffer > 0) {
    if (!src->recover) return FALSE;  // suspend: the data ran out
    if (++src->stale_refills <= kMaxStaleRefills) return TRUE;
  }
  if (src->recover && src->pub.next_input_byte != kFakeEoi) {
    WARNMS(cinfo, JWRN_JPEG_EOF);
    src->pub.next_input_byte = kFakeEoi;
    src->pub.bytes_in_buffer = 2;
    return TRUE;
  }
  ERREXIT(cinfo, JERR_FILE_READ);
  return FALSE;
}

void source_skip(j_decompress_ptr cinfo, long count) {
  auto* src = reinterpret_cast<MemorySource*>(cinfo->src);
  if (count <= 0) return;
  if ((size_t)count > src->pub.bytes_in_buffer) {
    src->pub.bytes_in_buffer = 0;
    (void)source_fill(cinfo);
  } else {
    src->pub.bytes_in_buffer -= count;
    src->pub.next_input_byte += count;
  }
}

void source_term(j_decompress_ptr) {}

void set_source(j_decompress_ptr cinfo, MemorySource* src, const uint8_t* data, size_t size, bool recover) {
  src->pub.init_source = source_init;
  src->pub.fill_input_buffer = source_fill;
  src->pub.skip_input_data = source_skip;
  src->pub.resync_to_restart = jpeg_resync_to_restart;
  src->pub.term_source = source_term;
  src->pub.bytes_in_buffer = 0;
  src->pub.next_input_byte = nullptr;
  src->data = data;
  src->size = size;
  src->recover = recover;
  src->stale_refills = 0;
  cinfo->src = &src->pub;
}

// CMYK (as stored by Adobe, inverted, or plain) to RGB, in place over rows of 4 -> 3.
void cmyk_to_rgb(const uint8_t* src, uint8_t* dst, size_t pixels, bool inverted) {
  for (size_t i = 0; i < pixels; ++i) {
    int c = src[4 * i], m = src[4 * i + 1], y = src[4 * i + 2], k = src[4 * i + 3];
    if (!inverted) c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
    dst[3 * i] = (uint8_t)(c * k / 255);
    dst[3 * i + 1] = (uint8_t)(m * k / 255);
    dst[3 * i + 2] = (uint8_t)(y * k / 255);
  }
}

}  // namespace

std::string decode_jpeg(const uint8_t* data, size_t size, const JpegDecodeOptions& opt, Image* out) {
  if (size == 0) return "empty input";
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  MemorySource source;
  init_errors(&err);
  cinfo.err = &err.pub;
  std::vector<uint8_t>& cmyk = out->pixels;  // reused below; see the CMYK branch
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return err.message;
  }
  jpeg_create_decompress(&cinfo);
  set_source(&cinfo, &source, data, size, opt.try_recover_truncated);
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
    jpeg_destroy_decompress(&cinfo);
    return "premature end of JPEG data (in the header)";
  }
  const bool is_cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  int channels = opt.channels;
  if (channels == 0) channels = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
  cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : (is_cmyk ? JCS_CMYK : JCS_RGB);
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned)opt.ratio;
  cinfo.do_fancy_upsampling = opt.fancy_upscaling ? TRUE : FALSE;
  cinfo.dct_method = opt.accurate_dct ? JDCT_ISLOW : JDCT_IFAST;
  if (!jpeg_start_decompress(&cinfo)) {  // suspended: a progressive image whose scans end early
    jpeg_destroy_decompress(&cinfo);
    return "premature end of JPEG data (before the first row)";
  }
  const int w = (int)cinfo.output_width, h = (int)cinfo.output_height, got = cinfo.output_components;
  if (w <= 0 || h <= 0) {
    jpeg_destroy_decompress(&cinfo);
    return "image has no pixels";
  }
  // A CMYK image decodes 4 components per pixel; it is converted to RGB after the last row.
  const size_t row_bytes = (size_t)w * got;
  cmyk.assign(row_bytes * h, 0);  // rows never decoded stay black
  int rows = 0;
  while (rows < h) {
    JSAMPROW row = cmyk.data() + (size_t)rows * row_bytes;
    if (jpeg_read_scanlines(&cinfo, &row, 1) == 0) break;  // the source suspended: data ran out
    ++rows;
  }
  if (rows < h) {
    if (opt.try_recover_truncated) {
      // Even the fake end of the stream gave no row: repeat the last row read.
      for (int y = rows; y < h && y > 0; ++y) std::memcpy(cmyk.data() + y * row_bytes, cmyk.data() + (y - 1) * row_bytes, row_bytes);
    } else if ((double)rows < (double)h * std::min(1.0f, opt.acceptable_fraction)) {
      jpeg_destroy_decompress(&cinfo);
      char msg[160];
      std::snprintf(msg, sizeof msg, "premature end of JPEG data (the data ran out after %d of %d rows)", rows, h);
      return msg;
    }
    jpeg_abort_decompress(&cinfo);
  } else {
    jpeg_finish_decompress(&cinfo);
  }
  const bool inverted = cinfo.saw_Adobe_marker;
  jpeg_destroy_decompress(&cinfo);
  out->height = h;
  out->width = w;
  out->channels = channels;
  if (got == 4 && channels == 3) {
    cmyk_to_rgb(out->pixels.data(), out->pixels.data(), (size_t)w * h, inverted);
    out->pixels.resize((size_t)w * h * 3);
  } else if (got != channels) {
    char msg[120];
    std::snprintf(msg, sizeof msg, "the decoder produced %d channels where %d were asked for", got, channels);
    return msg;
  }
  return "";
}

std::string encode_jpeg(const Image& image, const JpegEncodeOptions& opt, std::vector<uint8_t>* out) {
  // The XMP marker (APP1: the XMP namespace, its NUL, the packet) is built before setjmp so
  // that no object with a destructor is created between setjmp and a longjmp.
  static const char kXmpHeader[] = "http://ns.adobe.com/xap/1.0/";
  std::vector<uint8_t> marker;
  if (!opt.xmp_metadata.empty()) {
    if (sizeof kXmpHeader + opt.xmp_metadata.size() > 65533) return "xmpMetadata is longer than one JPEG marker holds";
    marker.resize(sizeof kXmpHeader + opt.xmp_metadata.size());
    std::memcpy(marker.data(), kXmpHeader, sizeof kXmpHeader);
    std::memcpy(marker.data() + sizeof kXmpHeader, opt.xmp_metadata.data(), opt.xmp_metadata.size());
  }
  jpeg_compress_struct cinfo;
  ErrorManager err;
  init_errors(&err);
  cinfo.err = &err.pub;
  unsigned char* buffer = nullptr;  // owned by libjpeg's memory destination until freed here
  unsigned long buffer_size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    return err.message;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &buffer_size);
  cinfo.image_width = (JDIMENSION)image.width;
  cinfo.image_height = (JDIMENSION)image.height;
  cinfo.input_components = image.channels;
  cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  cinfo.optimize_coding = opt.optimize_size ? TRUE : FALSE;
  cinfo.density_unit = opt.density_in_cm ? 2 : 1;
  cinfo.X_density = (UINT16)opt.x_density;
  cinfo.Y_density = (UINT16)opt.y_density;
  jpeg_set_quality(&cinfo, opt.quality, TRUE);
  if (opt.progressive) jpeg_simple_progression(&cinfo);
  if (!opt.chroma_downsampling) {
    for (int i = 0; i < cinfo.num_components; ++i) {
      cinfo.comp_info[i].h_samp_factor = 1;
      cinfo.comp_info[i].v_samp_factor = 1;
    }
  }
  jpeg_start_compress(&cinfo, TRUE);
  if (!marker.empty()) jpeg_write_marker(&cinfo, JPEG_APP0 + 1, marker.data(), (unsigned)marker.size());
  const size_t stride = (size_t)image.width * image.channels;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image.pixels.data()) + cinfo.next_scanline * stride;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  out->assign(buffer, buffer + buffer_size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return "";
}

}  // namespace codec
}  // namespace cn
