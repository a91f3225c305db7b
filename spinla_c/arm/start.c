/*
 * start.c - the freestanding ARM side of the test harness: a _start that serves harness
 * requests (harness.h) from stdin to stdout through raw Linux system calls, for
 * `qemu-arm -cpu arm946`.  No libc: three system calls (read, write, exit) and a static buffer.
 * The request is decoded and run by dispatch.c, the file the host comparison build also uses.
 */
#include <stdint.h>

#include "harness.h"

int32_t hx_serve(uint8_t *buf, uint32_t len, uint64_t *ret, uint32_t *arrays_off,
                 uint32_t *arrays_len);
#if !defined(__aarch64__)
void _start(void) __attribute__((noreturn, naked));
#endif

#if defined(__aarch64__)
/* The aarch64 build (`make aarch64-harness`: the host NEON path against the portable C under
 * qemu-aarch64): Linux system calls with the number in x8, arguments in x0-x2, `svc 0`. */
enum { SYS_EXIT = 93, SYS_READ = 63, SYS_WRITE = 64 };

static int32_t hx_syscall3(int32_t nr, int32_t a, intptr_t b, int32_t c)
{
    register int64_t x0 __asm__("x0") = a;
    register int64_t x1 __asm__("x1") = b;
    register int64_t x2 __asm__("x2") = c;
    register int64_t x8 __asm__("x8") = nr;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
    return (int32_t)x0;
}
#else
/* ARM EABI Linux system calls: number in r7, arguments in r0-r2, `svc 0`. */
enum { SYS_EXIT = 1, SYS_READ = 3, SYS_WRITE = 4 };

static int32_t hx_syscall3(int32_t nr, int32_t a, intptr_t b, int32_t c)
{
    register int32_t r0 __asm__("r0") = a;
    register int32_t r1 __asm__("r1") = b;
    register int32_t r2 __asm__("r2") = c;
    register int32_t r7 __asm__("r7") = nr;
    __asm__ volatile("svc 0" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
    return r0;
}
#endif

static void hx_exit(int32_t code)
{
    for (;;)
        hx_syscall3(SYS_EXIT, code, 0, 0);
}

/* Reads exactly n bytes; 0 at a clean end of input before the first byte, -1 on a short read. */
static int32_t hx_read_exact(uint8_t *p, uint32_t n)
{
    uint32_t got = 0;
    while (got < n) {
        int32_t r = hx_syscall3(SYS_READ, 0, (intptr_t)(p + got), (int32_t)(n - got));
        if (r <= 0)
            return got == 0 ? 0 : -1;
        got += (uint32_t)r;
    }
    return 1;
}

static void hx_write_all(const uint8_t *p, uint32_t n)
{
    while (n) {
        int32_t r = hx_syscall3(SYS_WRITE, 1, (intptr_t)p, (int32_t)n);
        if (r <= 0)
            hx_exit(3);
        p += r;
        n -= (uint32_t)r;
    }
}

static void hx_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint64_t hx_buf[HX_MAX_REQUEST_BYTES / 8];

static void __attribute__((noreturn, used)) hx_main(void)
{
    uint8_t *buf = (uint8_t *)hx_buf;
    for (;;) {
        int32_t r = hx_read_exact(buf, HX_REQ_HEADER_BYTES);
        if (r == 0)
            hx_exit(0);
        if (r < 0)
            hx_exit(2);
        uint32_t len = (uint32_t)buf[16] | (uint32_t)buf[17] << 8 | (uint32_t)buf[18] << 16
                       | (uint32_t)buf[19] << 24;
        uint64_t ret = 0;
        uint32_t off = 0, alen = 0;
        int32_t status = HX_ERR_MEMORY;
        if (len >= HX_REQ_HEADER_BYTES && len <= HX_MAX_REQUEST_BYTES) {
            if (hx_read_exact(buf + HX_REQ_HEADER_BYTES, len - HX_REQ_HEADER_BYTES) < 0)
                hx_exit(2);
            status = hx_serve(buf, len, &ret, &off, &alen);
        }
        if (status != HX_OK)
            alen = 0;
        uint8_t head[HX_RESP_HEADER_BYTES];
        hx_put32(head, HX_MAGIC);
        hx_put32(head + 4, (uint32_t)status);
        hx_put32(head + 8, (uint32_t)ret);
        hx_put32(head + 12, (uint32_t)(ret >> 32));
        hx_put32(head + 16, alen);
        hx_put32(head + 20, 0);
        hx_write_all(head, HX_RESP_HEADER_BYTES);
        hx_write_all(buf + off, alen);
        if (status == HX_ERR_MEMORY)
            hx_exit(4);  /* the rest of an oversized request cannot be skipped reliably */
    }
}

#if defined(__aarch64__)
/* Linux starts us with sp 16-byte aligned (GCC has no naked functions on aarch64). */
__asm__(".global _start\n_start:\n\tbl hx_main\n");
#else
/* Linux starts us with sp set and 8-byte aligned; keep it aligned and never return. */
void _start(void)
{
    __asm__ volatile("bic sp, sp, #7\n\tbl hx_main");
}
#endif
