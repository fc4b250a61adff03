#ifndef CLVS_CJPEG_SHIM_H
#define CLVS_CJPEG_SHIM_H
// libjpeg-turbo (pkg-config `libjpeg`, jpeg62 API) plus a decode helper whose error manager turns
// libjpeg's error_exit into setjmp/longjmp inside C: a corrupt file returns an error code with a
// message and never aborts the process. Swift must not call setjmp/longjmp itself.
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

enum {
    CLVS_JPEG_OK = 0,
    CLVS_JPEG_ERROR = 1,        // libjpeg reported an error (message filled)
    CLVS_JPEG_TOO_LARGE = 2,    // width * height above the caller's limit
    CLVS_JPEG_NO_MEMORY = 3,
    CLVS_JPEG_TRUNCATED = 4,    // the data ended before the image did
    CLVS_JPEG_UNSUPPORTED = 5   // component count other than 1, 3 or 4
};

/// A decoded JPEG, converted to 8-bit RGB as Pillow's `Image.open(f).convert("RGB")` does.
typedef struct {
    uint32_t width;
    uint32_t height;
    int components;          // in the file: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK
    int jpeg_color_space;    // libjpeg's J_COLOR_SPACE for the file
    int progressive;
    int error_code;          // libjpeg's J_MESSAGE_CODE when the decode failed in libjpeg, else 0
    unsigned char *rgb;      // [height, width, 3] row-major, malloc'd; free with clvs_jpeg_free
    char message[JMSG_LENGTH_MAX + 32];
} clvs_jpeg_image;

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int saw_eof;             // libjpeg's "Premature end of JPEG file" warning was emitted
    clvs_jpeg_image *image;
} clvs_jpeg_error_mgr;

static void clvs_jpeg_error_exit(j_common_ptr cinfo) {
    clvs_jpeg_error_mgr *err = (clvs_jpeg_error_mgr *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    buffer[0] = 0;
    (*cinfo->err->format_message)(cinfo, buffer);
    err->image->error_code = cinfo->err->msg_code;
    strncpy(err->image->message, buffer, sizeof(err->image->message) - 1);
    err->image->message[sizeof(err->image->message) - 1] = 0;
    longjmp(err->jump, 1);
}

static void clvs_jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    clvs_jpeg_error_mgr *err = (clvs_jpeg_error_mgr *)cinfo->err;
    if (msg_level < 0) {
        // Warnings (corrupt-data notes) are ignored, as Pillow does, except running out of data.
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
            err->saw_eof = 1;
        }
        cinfo->err->num_warnings++;
    }
}

static void clvs_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static inline void clvs_jpeg_free(clvs_jpeg_image *image) {
    if (image != NULL && image->rgb != NULL) {
        free(image->rgb);
        image->rgb = NULL;
    }
}

typedef struct {
    struct jpeg_decompress_struct cinfo;
    clvs_jpeg_error_mgr err;
    unsigned char *row;      // one output scanline
} clvs_jpeg_state;

/// Decodes a JPEG held in memory with libjpeg's defaults (islow DCT, fancy upsampling), as Pillow
/// does. Returns CLVS_JPEG_OK and fills `image` (free `image->rgb` with clvs_jpeg_free), or an error
/// code with `image->message` set; nothing is left allocated on error.
/// Gray is replicated to RGB; 3-component files are converted by libjpeg (YCbCr -> RGB); CMYK/YCCK
/// are read as CMYK, inverted (Pillow's "CMYK;I" Adobe convention) and converted with Pillow's
/// cmyk2rgb formula. A file that ends before the last scanline is CLVS_JPEG_TRUNCATED.
static inline int clvs_jpeg_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                                   clvs_jpeg_image *image) {
    memset(image, 0, sizeof(*image));
    // Heap state: objects changed between setjmp and longjmp must not be automatic variables.
    clvs_jpeg_state *st = (clvs_jpeg_state *)calloc(1, sizeof(clvs_jpeg_state));
    if (st == NULL) {
        strcpy(image->message, "out of memory");
        return CLVS_JPEG_NO_MEMORY;
    }
    st->err.image = image;
    st->cinfo.err = jpeg_std_error(&st->err.pub);
    st->err.pub.error_exit = clvs_jpeg_error_exit;
    st->err.pub.emit_message = clvs_jpeg_emit_message;
    st->err.pub.output_message = clvs_jpeg_output_message;
    if (setjmp(st->err.jump)) {
        int code = st->err.saw_eof ? CLVS_JPEG_TRUNCATED : CLVS_JPEG_ERROR;
        jpeg_destroy_decompress(&st->cinfo);
        free(st->row);
        free(st);
        clvs_jpeg_free(image);
        return code;
    }
    jpeg_create_decompress(&st->cinfo);
    jpeg_mem_src(&st->cinfo, data, (unsigned long)size);
    jpeg_read_header(&st->cinfo, TRUE);

    image->width = st->cinfo.image_width;
    image->height = st->cinfo.image_height;
    image->components = st->cinfo.num_components;
    image->jpeg_color_space = (int)st->cinfo.jpeg_color_space;
    image->progressive = st->cinfo.progressive_mode ? 1 : 0;
    if ((uint64_t)image->width * (uint64_t)image->height > max_pixels) {
        snprintf(image->message, sizeof(image->message), "%u x %u pixels is above the limit of %llu",
                 (unsigned)image->width, (unsigned)image->height, (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&st->cinfo);
        free(st);
        return CLVS_JPEG_TOO_LARGE;
    }
    int components = st->cinfo.num_components;
    if (components == 1) {
        st->cinfo.out_color_space = JCS_GRAYSCALE;
    } else if (components == 3) {
        st->cinfo.out_color_space = JCS_RGB;
    } else if (components == 4) {
        st->cinfo.out_color_space = JCS_CMYK;
    } else {
        snprintf(image->message, sizeof(image->message), "%d colour components", components);
        jpeg_destroy_decompress(&st->cinfo);
        free(st);
        return CLVS_JPEG_UNSUPPORTED;
    }
    jpeg_start_decompress(&st->cinfo);
    int out_components = st->cinfo.output_components;
    uint32_t width = st->cinfo.output_width;
    uint32_t height = st->cinfo.output_height;
    if ((out_components != 1 && out_components != 3 && out_components != 4) ||
        width != image->width || height != image->height) {
        strcpy(image->message, "unexpected output layout from libjpeg");
        jpeg_destroy_decompress(&st->cinfo);
        free(st);
        return CLVS_JPEG_ERROR;
    }
    st->row = (unsigned char *)malloc((size_t)width * (size_t)out_components + 1);
    image->rgb = (unsigned char *)malloc((size_t)width * (size_t)height * 3 + 1);
    if (st->row == NULL || image->rgb == NULL) {
        strcpy(image->message, "out of memory");
        jpeg_destroy_decompress(&st->cinfo);
        free(st->row);
        free(st);
        clvs_jpeg_free(image);
        return CLVS_JPEG_NO_MEMORY;
    }
    while (st->cinfo.output_scanline < height) {
        uint32_t y = st->cinfo.output_scanline;
        JSAMPROW rows[1] = {st->row};
        if (jpeg_read_scanlines(&st->cinfo, rows, 1) != 1) {
            strcpy(image->message, "libjpeg returned no scanline");
            jpeg_destroy_decompress(&st->cinfo);
            free(st->row);
            free(st);
            clvs_jpeg_free(image);
            return CLVS_JPEG_ERROR;
        }
        const unsigned char *src = st->row;
        unsigned char *dst = image->rgb + (size_t)y * width * 3;
        if (out_components == 1) {
            for (uint32_t x = 0; x < width; x++) {
                dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[x];
            }
        } else if (out_components == 3) {
            memcpy(dst, src, (size_t)width * 3);
        } else {
            for (uint32_t x = 0; x < width; x++) {
                // Pillow reads CMYK JPEGs with rawmode "CMYK;I" (inverted, Adobe convention),
                // then convert("RGB") computes CLIP8(nk - MULDIV255(c, nk)) with nk = 255 - k.
                // Inverted C, M, Y are 255 - raw; nk = 255 - inverted K = raw K.
                int cs[3] = {255 - src[4 * x], 255 - src[4 * x + 1], 255 - src[4 * x + 2]};
                int nk = src[4 * x + 3];
                for (int c = 0; c < 3; c++) {
                    int tmp = cs[c] * nk + 128;
                    int v = nk - (((tmp >> 8) + tmp) >> 8);
                    dst[3 * x + c] = (unsigned char)(v < 0 ? 0 : (v > 255 ? 255 : v));
                }
            }
        }
    }
    if (st->err.saw_eof) {
        // The scanlines above were padded by libjpeg; Pillow refuses such files.
        strcpy(image->message, "premature end of JPEG data");
        jpeg_destroy_decompress(&st->cinfo);
        free(st->row);
        free(st);
        clvs_jpeg_free(image);
        return CLVS_JPEG_TRUNCATED;
    }
    jpeg_finish_decompress(&st->cinfo);
    jpeg_destroy_decompress(&st->cinfo);
    free(st->row);
    free(st);
    return CLVS_JPEG_OK;
}

#endif
