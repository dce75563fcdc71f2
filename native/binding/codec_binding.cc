// Image codec exports for tf.node (lib/node/image.ts): decodeJpeg, decodePng, decodeGif,
// encodeJpeg, encodePng over native/codec. Arguments arrive validated by TypeScript; a codec failure
// (corrupt or truncated data) throws a JS Error with .code ERR_INVALID_IMAGE and the codec's
// message, which lib/node/image.ts words as a CudnnNodeError naming the function.
#include <napi.h>

#include <cstring>

#include "../codec/image_codec.h"
#include "bindings.h"
#include "guard.h"

namespace cn {
namespace {

Napi::Value throw_codec(Napi::Env env, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, "ERR_INVALID_IMAGE"));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool bytes_arg(const Napi::CallbackInfo& info, size_t i, const uint8_t** data, size_t* size) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(info.Env(), "codec: expected a Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Uint8Array a = info[i].As<Napi::Uint8Array>();
  *data = a.Data();
  *size = a.ByteLength();
  return true;
}

int int_arg(const Napi::CallbackInfo& info, size_t i, int fallback) {
  return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Int32Value() : fallback;
}

// {data: Uint8Array, shape: [h, w, c]}, or [frames, h, w, c] when with_frames.
Napi::Value image_result(Napi::Env env, const codec::Image& img, bool with_frames = false) {
  Napi::Uint8Array data = Napi::Uint8Array::New(env, img.pixels.size());
  if (!img.pixels.empty()) std::memcpy(data.Data(), img.pixels.data(), img.pixels.size());
  Napi::Array shape = Napi::Array::New(env, with_frames ? 4 : 3);
  uint32_t i = 0;
  if (with_frames) shape.Set(i++, img.frames);
  shape.Set(i++, img.height);
  shape.Set(i++, img.width);
  shape.Set(i++, img.channels);
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", data);
  o.Set("shape", shape);
  return o;
}

Napi::Value bytes_result(Napi::Env env, const std::vector<uint8_t>& bytes) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, bytes.size());
  if (!bytes.empty()) std::memcpy(out.Data(), bytes.data(), bytes.size());
  return out;
}

// Pixels [h, w, c] from (Uint8Array, h, w, c).
bool image_arg(const Napi::CallbackInfo& info, codec::Image* img) {
  const uint8_t* data;
  size_t size;
  if (!bytes_arg(info, 0, &data, &size)) return false;
  img->height = int_arg(info, 1, 0);
  img->width = int_arg(info, 2, 0);
  img->channels = int_arg(info, 3, 0);
  if (img->height <= 0 || img->width <= 0 || img->channels <= 0 ||
      (size_t)img->height * img->width * img->channels != size) {
    Napi::TypeError::New(info.Env(), "codec: pixel count does not match the shape").ThrowAsJavaScriptException();
    return false;
  }
  img->pixels.assign(data, data + size);
  return true;
}

// decodeJpeg(bytes, channels, ratio, fancyUpscaling, tryRecoverTruncated, acceptableFraction, accurateDct)
Napi::Value decode_jpeg_js(const Napi::CallbackInfo& info) {
  const uint8_t* data;
  size_t size;
  if (!bytes_arg(info, 0, &data, &size)) return info.Env().Undefined();
  codec::JpegDecodeOptions opt;
  opt.channels = int_arg(info, 1, 0);
  opt.ratio = int_arg(info, 2, 1);
  opt.fancy_upscaling = info.Length() > 3 && info[3].ToBoolean().Value();
  opt.try_recover_truncated = info.Length() > 4 && info[4].ToBoolean().Value();
  opt.acceptable_fraction = info.Length() > 5 && info[5].IsNumber() ? info[5].As<Napi::Number>().FloatValue() : 1.0f;
  opt.accurate_dct = info.Length() > 6 && info[6].ToBoolean().Value();
  codec::Image img;
  std::string err = codec::decode_jpeg(data, size, opt, &img);
  if (!err.empty()) return throw_codec(info.Env(), err);
  return image_result(info.Env(), img);
}

// decodePng(bytes, channels)
Napi::Value decode_png_js(const Napi::CallbackInfo& info) {
  const uint8_t* data;
  size_t size;
  if (!bytes_arg(info, 0, &data, &size)) return info.Env().Undefined();
  codec::Image img;
  std::string err = codec::decode_png(data, size, int_arg(info, 1, 0), &img);
  if (!err.empty()) return throw_codec(info.Env(), err);
  return image_result(info.Env(), img);
}

// decodeGif(bytes, firstFrameOnly): [frames, h, w, 3]
Napi::Value decode_gif_js(const Napi::CallbackInfo& info) {
  const uint8_t* data;
  size_t size;
  if (!bytes_arg(info, 0, &data, &size)) return info.Env().Undefined();
  codec::Image img;
  std::string err = codec::decode_gif(data, size, info.Length() > 1 && info[1].ToBoolean().Value(), &img);
  if (!err.empty()) return throw_codec(info.Env(), err);
  return image_result(info.Env(), img, true);
}

// encodeJpeg(pixels, h, w, c, {quality, progressive, optimizeSize, chromaDownsampling,
//            densityInCm, xDensity, yDensity, xmpMetadata})
Napi::Value encode_jpeg_js(const Napi::CallbackInfo& info) {
  codec::Image img;
  if (!image_arg(info, &img)) return info.Env().Undefined();
  codec::JpegEncodeOptions opt;
  if (info.Length() > 4 && info[4].IsObject()) {
    Napi::Object o = info[4].As<Napi::Object>();
    auto num = [&](const char* k, int d) { return o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().Int32Value() : d; };
    opt.quality = num("quality", 95);
    opt.progressive = o.Get("progressive").ToBoolean().Value();
    opt.optimize_size = o.Get("optimizeSize").ToBoolean().Value();
    opt.chroma_downsampling = o.Get("chromaDownsampling").ToBoolean().Value();
    opt.density_in_cm = o.Get("densityInCm").ToBoolean().Value();
    opt.x_density = num("xDensity", 300);
    opt.y_density = num("yDensity", 300);
    if (o.Get("xmpMetadata").IsString()) opt.xmp_metadata = o.Get("xmpMetadata").As<Napi::String>().Utf8Value();
  }
  std::vector<uint8_t> bytes;
  std::string err = codec::encode_jpeg(img, opt, &bytes);
  if (!err.empty()) return throw_codec(info.Env(), err);
  return bytes_result(info.Env(), bytes);
}

// encodePng(pixels, h, w, c, compression)
Napi::Value encode_png_js(const Napi::CallbackInfo& info) {
  codec::Image img;
  if (!image_arg(info, &img)) return info.Env().Undefined();
  std::vector<uint8_t> bytes;
  std::string err = codec::encode_png(img, int_arg(info, 4, -1), &bytes);
  if (!err.empty()) return throw_codec(info.Env(), err);
  return bytes_result(info.Env(), bytes);
}

}  // namespace

void init_codec_binding(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "codecDecodeJpeg", decode_jpeg_js);
  export_function(env, exports, "codecDecodePng", decode_png_js);
  export_function(env, exports, "codecDecodeGif", decode_gif_js);
  export_function(env, exports, "codecEncodeJpeg", encode_jpeg_js);
  export_function(env, exports, "codecEncodePng", encode_png_js);
}

}  // namespace cn
