/*
 * LD_PRELOAD shim for Debian 12's User-mode Linux (6.1) on hosts with a large XSAVE area.
 *
 * UML saves and restores its guest threads' FPU state with
 *   ptrace(PTRACE_GETREGSET / PTRACE_SETREGSET, pid, NT_X86_XSTATE, {buf, 832 bytes}).
 * The host kernel accepts a short buffer for GETREGSET but requires SETREGSET to pass the whole
 * XSAVE area (11008 bytes with AVX-512 + AMX), and fails with EFAULT otherwise: the guest dies at
 * boot with "userspace - ptrace set fp regs failed, errno = 14" / "Attempted to kill init".
 * (Upstream UML later sized the buffer from the host; the 6.1 kernel in Debian 12 does not.)
 *
 * This shim wraps ptrace() for exactly those two requests when the caller's buffer is shorter
 * than the host's XSAVE area. It keeps the part of the state that does not fit in UML's buffer
 * (upper ZMM halves, ZMM16-31, opmask, AMX ...) in a side table keyed by UML's buffer address,
 * which is per guest thread, and puts it back on the matching SETREGSET, so every guest thread
 * gets its whole register state back exactly as if UML had a full-size buffer. Every other
 * ptrace request goes straight to libc. No malloc: memory comes from mmap.
 *
 * Built by tests/lab/lab into the image cache:  cc -O2 -shared -fPIC -o uml-xstate.so uml-xstate.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define XSTATE_NOTE 0x202 /* NT_X86_XSTATE */
#define PROBE_SIZE (64 * 1024)
#define NBUF 8
#define TABLE_BITS 16
#define TABLE_SIZE (1UL << TABLE_BITS)
#define POOL_CHUNK (4UL << 20)

typedef long (*ptrace_fn)(enum __ptrace_request, ...);

struct entry {
	void *key;            /* UML's buffer (one per guest thread) */
	size_t off;           /* UML's buffer length: the extra state starts there */
	unsigned char *extra; /* bytes [off, full_size) of the last state read into key */
};

static ptrace_fn real_ptrace;
static size_t full_size; /* the host's XSAVE regset size; 0 = not probed yet */
static unsigned char *bufs[NBUF];
static unsigned int buf_next;
static struct entry *table;
static unsigned char *pool;
static size_t pool_left;

static void *map(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static unsigned char *alloc(size_t n)
{
	unsigned char *p;

	n = (n + 63) & ~63UL;
	if (pool_left < n) {
		pool = map(POOL_CHUNK);
		pool_left = pool ? POOL_CHUNK : 0;
		if (!pool)
			return NULL;
	}
	p = pool;
	pool += n;
	pool_left -= n;
	return p;
}

static struct entry *lookup(void *key, int create)
{
	size_t h = (size_t)(((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ULL) >> (64 - TABLE_BITS);
	size_t i;

	for (i = 0; i < TABLE_SIZE; i++) {
		struct entry *e = &table[(h + i) & (TABLE_SIZE - 1)];

		if (e->key == key)
			return e;
		if (!e->key) {
			if (!create)
				return NULL;
			e->extra = alloc(full_size);
			if (!e->extra)
				return NULL;
			e->key = key;
			e->off = 0;
			return e;
		}
	}
	return NULL;
}

static int probe(pid_t pid)
{
	struct iovec iov;
	unsigned char *probe_buf = map(PROBE_SIZE);
	int i;

	if (!probe_buf)
		return -1;
	iov.iov_base = probe_buf;
	iov.iov_len = PROBE_SIZE;
	if (real_ptrace(PTRACE_GETREGSET, pid, (void *)XSTATE_NOTE, &iov) < 0) {
		munmap(probe_buf, PROBE_SIZE);
		return -1;
	}
	munmap(probe_buf, PROBE_SIZE);
	table = map(sizeof(struct entry) * TABLE_SIZE);
	if (!table)
		return -1;
	for (i = 0; i < NBUF; i++) {
		bufs[i] = map(iov.iov_len);
		if (!bufs[i])
			return -1;
	}
	full_size = iov.iov_len;
	return 0;
}

static unsigned char *scratch(void)
{
	return bufs[__atomic_fetch_add(&buf_next, 1, __ATOMIC_RELAXED) % NBUF];
}

static long get_xstate(pid_t pid, struct iovec *iov)
{
	unsigned char *tmp = scratch();
	struct iovec big = { tmp, full_size };
	long r = real_ptrace(PTRACE_GETREGSET, pid, (void *)XSTATE_NOTE, &big);
	size_t len;
	struct entry *e;

	if (r < 0)
		return r;
	len = iov->iov_len < big.iov_len ? iov->iov_len : big.iov_len;
	memcpy(iov->iov_base, tmp, len);
	iov->iov_len = len;
	if (big.iov_len > len) {
		e = lookup(iov->iov_base, 1);
		if (e) {
			memcpy(e->extra + len, tmp + len, big.iov_len - len);
			e->off = len;
		}
	}
	return r;
}

static long set_xstate(pid_t pid, struct iovec *iov)
{
	unsigned char *tmp = scratch();
	struct iovec big = { tmp, full_size };
	struct entry *e = lookup(iov->iov_base, 0);

	if (e && e->off == iov->iov_len) {
		memcpy(tmp + e->off, e->extra + e->off, full_size - e->off);
	} else {
		/* A buffer never read through us (a new thread): keep the tracee's own extra state. */
		if (real_ptrace(PTRACE_GETREGSET, pid, (void *)XSTATE_NOTE, &big) < 0)
			return -1;
		big.iov_len = full_size;
	}
	memcpy(tmp, iov->iov_base, iov->iov_len);
	return real_ptrace(PTRACE_SETREGSET, pid, (void *)XSTATE_NOTE, &big);
}

long ptrace(enum __ptrace_request request, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, request);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	if (!real_ptrace)
		real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
	if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) &&
	    (uintptr_t)addr == XSTATE_NOTE && data) {
		struct iovec *iov = data;

		if (full_size || probe(pid) == 0) {
			if (iov->iov_len < full_size)
				return request == PTRACE_GETREGSET ? get_xstate(pid, iov) : set_xstate(pid, iov);
		}
	}
	return real_ptrace(request, pid, addr, data);
}
