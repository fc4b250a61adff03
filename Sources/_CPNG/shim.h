#ifndef CLVS_CPNG_SHIM_H
#define CLVS_CPNG_SHIM_H
// libpng 1.6 (pkg-config `libpng`) plus small helpers that keep libpng's longjmp-based error
// handling inside C: a corrupt or truncated file makes a helper return an error code with a
// message, never abort the process. Swift must not call setjmp/longjmp itself.
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    CLVS_PNG_OK = 0,
    CLVS_PNG_ERROR = 1,        // libpng reported an error (message filled)
    CLVS_PNG_TOO_LARGE = 2,    // width * height above the caller's limit
    CLVS_PNG_NO_MEMORY = 3,
    CLVS_PNG_TRUNCATED = 4     // the data ended before the image did
};

/// Decoded PNG, converted to 8-bit RGB the way Pillow's `Image.open(f).convert("RGB")` does.
typedef struct {
    uint32_t width;
    uint32_t height;
    int bit_depth;      // as stored in the file
    int color_type;     // as stored in the file (PNG_COLOR_TYPE_*)
    int interlaced;     // 1 if Adam7
    unsigned char *rgb; // [height, width, 3] row-major, malloc'd; caller frees with clvs_png_free
    char message[256];
} clvs_png_image;

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t pos;
    int truncated;
    clvs_png_image *image;
    png_bytep *rows;       // row pointers into `raw` (freed on every exit path)
    unsigned char *raw;    // libpng output before conversion to RGB
} clvs_png_read_state;

static void clvs_png_on_error(png_structp png, png_const_charp msg) {
    clvs_png_read_state *st = (clvs_png_read_state *)png_get_error_ptr(png);
    if (st != NULL && st->image != NULL) {
        strncpy(st->image->message, msg ? msg : "unknown libpng error", sizeof(st->image->message) - 1);
        st->image->message[sizeof(st->image->message) - 1] = 0;
    }
    png_longjmp(png, 1);
}

static void clvs_png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg; // Pillow ignores ancillary-chunk warnings too.
}

static void clvs_png_read_bytes(png_structp png, png_bytep out, size_t length) {
    clvs_png_read_state *st = (clvs_png_read_state *)png_get_io_ptr(png);
    if (st->size - st->pos < length) {
        st->truncated = 1;
        png_error(png, "unexpected end of data");
    }
    memcpy(out, st->data + st->pos, length);
    st->pos += length;
}

static inline void clvs_png_free(clvs_png_image *image) {
    if (image != NULL && image->rgb != NULL) {
        free(image->rgb);
        image->rgb = NULL;
    }
}

/// Decodes a PNG held in memory. Returns CLVS_PNG_OK and fills `image` (free `image->rgb` with
/// clvs_png_free), or an error code with `image->message` set; nothing is left allocated on error.
///
/// Conversion to RGB (matching Pillow 13): alpha is dropped (not composited); palette indices are
/// looked up in PLTE; 1/2/4-bit gray is scaled to 0...255; 16-bit gray (Pillow mode "I;16") is
/// clipped to 255; 16-bit RGB, RGBA and gray+alpha keep the high byte of each sample.
static inline int clvs_png_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                                  clvs_png_image *image) {
    memset(image, 0, sizeof(*image));
    // Heap state: objects changed between setjmp and longjmp must not be automatic variables.
    clvs_png_read_state *st = (clvs_png_read_state *)calloc(1, sizeof(clvs_png_read_state));
    if (st == NULL) {
        strcpy(image->message, "out of memory");
        return CLVS_PNG_NO_MEMORY;
    }
    st->data = data;
    st->size = size;
    st->image = image;

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, st, clvs_png_on_error,
                                             clvs_png_on_warning);
    if (png == NULL) {
        free(st);
        strcpy(image->message, "cannot create libpng read struct");
        return CLVS_PNG_NO_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        free(st);
        strcpy(image->message, "cannot create libpng info struct");
        return CLVS_PNG_NO_MEMORY;
    }
    // Every libpng error lands here.
    if (setjmp(png_jmpbuf(png))) {
        int code = st->truncated ? CLVS_PNG_TRUNCATED : CLVS_PNG_ERROR;
        png_destroy_read_struct(&png, &info, NULL);
        free(st->rows);
        free(st->raw);
        free(st);
        clvs_png_free(image);
        return code;
    }
    png_set_read_fn(png, st, clvs_png_read_bytes);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    image->width = width;
    image->height = height;
    image->bit_depth = bit_depth;
    image->color_type = color_type;
    image->interlaced = interlace != PNG_INTERLACE_NONE;
    if ((uint64_t)width * (uint64_t)height > max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        free(st);
        snprintf(image->message, sizeof(image->message), "%u x %u pixels is above the limit of %llu",
                 (unsigned)width, (unsigned)height, (unsigned long long)max_pixels);
        return CLVS_PNG_TOO_LARGE;
    }

    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png); // may add an alpha channel from tRNS; it is dropped below
    }
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int out_depth = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || (out_depth != 8 && out_depth != 16) ||
        rowbytes < (size_t)width * (size_t)channels * (size_t)(out_depth / 8)) {
        png_error(png, "unexpected pixel layout after libpng transformations");
    }
    st->raw = (unsigned char *)malloc(rowbytes * (size_t)(height ? height : 1));
    st->rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)(height ? height : 1));
    image->rgb = (unsigned char *)malloc((size_t)width * (size_t)height * 3 + 1);
    if (st->raw == NULL || st->rows == NULL || image->rgb == NULL) {
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < height; y++) {
        st->rows[y] = st->raw + (size_t)y * rowbytes;
    }
    png_read_image(png, st->rows);
    // No png_read_end: like Pillow, chunks after the image data are not needed.

    // 16-bit gray without alpha is Pillow's "I;16": convert("RGB") clips to 255.
    int clip16 = (out_depth == 16 && (color_type == PNG_COLOR_TYPE_GRAY));
    for (png_uint_32 y = 0; y < height; y++) {
        const unsigned char *src = st->rows[y];
        unsigned char *dst = image->rgb + (size_t)y * width * 3;
        for (png_uint_32 x = 0; x < width; x++) {
            unsigned char s[4];
            for (int c = 0; c < channels; c++) {
                if (out_depth == 8) {
                    s[c] = src[(size_t)x * channels + c];
                } else {
                    const unsigned char *p = src + ((size_t)x * channels + c) * 2;
                    if (clip16) {
                        unsigned v = ((unsigned)p[0] << 8) | p[1];
                        s[c] = (unsigned char)(v > 255 ? 255 : v);
                    } else {
                        s[c] = p[0]; // big-endian high byte
                    }
                }
            }
            if (channels <= 2) {
                dst[x * 3 + 0] = dst[x * 3 + 1] = dst[x * 3 + 2] = s[0];
            } else {
                dst[x * 3 + 0] = s[0];
                dst[x * 3 + 1] = s[1];
                dst[x * 3 + 2] = s[2];
            }
        }
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(st->rows);
    free(st->raw);
    free(st);
    return CLVS_PNG_OK;
}

// ---------------------------------------------------------------------------------------------
// Writing

typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
    int failed;
    char message[256];
} clvs_png_buffer;

static void clvs_png_write_bytes(png_structp png, png_bytep bytes, size_t length) {
    clvs_png_buffer *buf = (clvs_png_buffer *)png_get_io_ptr(png);
    if (buf->size + length > buf->capacity) {
        size_t cap = buf->capacity ? buf->capacity : 4096;
        while (cap < buf->size + length) {
            cap *= 2;
        }
        unsigned char *grown = (unsigned char *)realloc(buf->data, cap);
        if (grown == NULL) {
            buf->failed = 1;
            png_error(png, "out of memory");
        }
        buf->data = grown;
        buf->capacity = cap;
    }
    memcpy(buf->data + buf->size, bytes, length);
    buf->size += length;
}

static void clvs_png_flush(png_structp png) { (void)png; }

static void clvs_png_on_write_error(png_structp png, png_const_charp msg) {
    clvs_png_buffer *buf = (clvs_png_buffer *)png_get_error_ptr(png);
    if (buf != NULL) {
        strncpy(buf->message, msg ? msg : "unknown libpng error", sizeof(buf->message) - 1);
        buf->message[sizeof(buf->message) - 1] = 0;
    }
    png_longjmp(png, 1);
}

static inline void clvs_png_buffer_free(clvs_png_buffer *buf) {
    if (buf != NULL && buf->data != NULL) {
        free(buf->data);
        buf->data = NULL;
    }
}

/// Encodes 8-bit pixels (`channels` 1 = gray, 3 = RGB; rows packed, [height, width, channels]) as
/// a non-interlaced PNG into `out` (free with clvs_png_buffer_free). Returns 0 on success.
static inline int clvs_png_encode(const unsigned char *pixels, uint32_t width, uint32_t height,
                                  int channels, clvs_png_buffer *out) {
    memset(out, 0, sizeof(*out));
    if (channels != 1 && channels != 3) {
        strcpy(out->message, "channels must be 1 or 3");
        return 1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, out, clvs_png_on_write_error,
                                              clvs_png_on_warning);
    if (png == NULL) {
        strcpy(out->message, "cannot create libpng write struct");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        strcpy(out->message, "cannot create libpng info struct");
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        clvs_png_buffer_free(out);
        return 1;
    }
    png_set_write_fn(png, out, clvs_png_write_bytes, clvs_png_flush);
    png_set_IHDR(png, info, width, height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * (size_t)channels));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

#endif
