/*
 * strato's sendfile addon (plain Node-API + libuv, C, Linux): sends a byte range of a file to a
 * TCP socket with sendfile(2), so the bytes never pass through JavaScript memory.
 *
 * Safety, in order of what could go wrong:
 * - Descriptors: a send that ends within the call that starts it uses the caller's descriptors
 *   on the main thread (the caller checked them just before). Any other send dup()s both on the
 *   main thread, in that call, before any other thread or later loop turn sees them. Node/libuv may close its
 *   own socket descriptor at any time (the peer resets, the server closes): its number may then
 *   be reused by another client's connection or another file, but the job only ever uses its
 *   own duplicates, which keep the original connection and file open until the job closes them.
 * - Threads: when the range is in the page cache (its first and last pages read with
 *   preadv2(RWF_NOWAIT), which never waits for the disk), the head and as much of the range as
 *   the socket takes are sent at once on the event loop, as nginx does: a non-blocking socket
 *   never waits for the network, and nothing then waits for a disk read. What the socket does
 *   not take is sent from the event loop each time the socket is writable again (uv_poll, at
 *   most MAX_INLINE_BYTES per turn). A range not in the page cache is sent on libuv's thread
 *   pool (napi async work) instead, and only while bytes move: when the socket stays full for
 *   WAIT_IN_THREAD_MS the work ends and the job waits on the event loop (uv_poll, no thread
 *   held). At most `maxWorkers` jobs hold a pool thread at once (the others queue here), so
 *   file reads, which use the same pool, are never starved.
 * - The head: the caller's response head (the bytes Node would have written) is sent first, by
 *   the same call, so no write of Node's has to complete before the body starts. Not with
 *   MSG_MORE: measured, head and body corked together cost more CPU per response than the head
 *   in its own segment (bare node:http, 1 MiB, 16 connections: 264-301 against 143-151 us).
 * - Bounds: a wait for writability longer than `stallMs` ends the job ("stalled"): a client
 *   that never reads holds neither a thread nor its descriptors for longer than that. `abort`
 *   (client gone, deadline, shutdown) ends it at the next loop turn or at once when waiting.
 * - A file shorter than the range ends the job as "short" with the bytes sent so far: the caller
 *   cuts the connection (the client sees fewer bytes than Content-Length), never bytes of
 *   another file: the file descriptor is the one the caller opened and checked.
 *
 * JavaScript API (see server/http/sendfile.ts):
 *   start(socketFd, fileFd, offset, length, stallMs, done, head?) -> job | true
 *        true: head and range all sent within the call (done is never called);
 *        job: done(result, bytesSent) is called once, later, from the event loop
 *   abort(job)                                                      ends it soon (idempotent)
 *   configure(maxWorkers, inlineBytes?)  pool threads used at most; bytes sent on the event loop
 *                                        per turn at most (0: none, all on the pool)
 *   stats() -> [jobs alive, jobs on a pool thread, jobs queued, waits on the event loop so far,
 *               sends ended within their start call, pool works started]
 * result: 0 all sent, 1 file ended early (short), 2 aborted, 3 stalled, < 0 -errno.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#define RESULT_DONE 0
#define RESULT_SHORT 1
#define RESULT_ABORTED 2
#define RESULT_STALLED 3
/* internal: the socket stayed full, wait on the event loop */
#define RESULT_WOULD_BLOCK 100
/* internal: the event loop sent its share for this turn, go on at the next */
#define RESULT_YIELD 101

/* how long a pool thread waits for a full socket before handing the wait to the event loop */
#define WAIT_IN_THREAD_MS 2
/* bytes per sendfile call (the loop checks the abort flag between calls) */
#define MAX_CALL_BYTES (8 * 1024 * 1024)
#define MAX_STALL_MS (10 * 60 * 1000)
/* bytes sent on the event loop per loop turn, at most (loopback sockets take MBs at once) */
#define MAX_INLINE_BYTES (4 * 1024 * 1024)
#define MAX_HEAD_BYTES (64 * 1024)

enum job_state { STATE_QUEUED, STATE_WORKING, STATE_WAITING, STATE_FINISHING, STATE_DONE };

typedef struct job job;
typedef struct addon addon;

struct addon {
  uv_loop_t *loop;
  uint32_t max_workers;
  /* bytes of a range in the page cache sent on the event loop per turn, at most; 0: none (configure) */
  int64_t inline_bytes;
  uint32_t working;
  uint32_t alive;
  /* times a job waited for its socket on the event loop (tests, metrics) */
  double waits;
  /* sends that ended within their start call; works queued on the pool */
  double inline_sends;
  double pool_works;
  job *queue_head;
  job *queue_tail;
};

struct job {
  addon *owner;
  napi_env env;
  napi_ref done;
  napi_async_context context;
  napi_async_work work;
  int socket_fd;
  int file_fd;
  int64_t offset;
  int64_t remaining;
  int64_t sent;
  /* the response head still to send before the range (owned copy) */
  char *head;
  size_t head_length;
  size_t head_offset;
  uint32_t stall_ms;
  int result;
  int aborted; /* read by the pool thread: __atomic */
  enum job_state state;
  job *next;
  uv_poll_t poll;
  uv_timer_t timer;
  int poll_started;
  /* references that keep this struct alive: the JS object, the timer handle, the poll handle */
  int refs;
};

static void release(job *j) {
  if (--j->refs == 0) {
    free(j->head);
    free(j);
  }
}

static void on_handle_closed(uv_handle_t *handle) {
  release((job *)handle->data);
}

static void close_fds(job *j) {
  if (j->socket_fd >= 0) close(j->socket_fd);
  if (j->file_fd >= 0) close(j->file_fd);
  j->socket_fd = -1;
  j->file_fd = -1;
}

static void pump(addon *a);

/* Ends a job: descriptors closed, handles closed, `done(result, sent)` called. Main thread. */
static void finish(job *j, int result) {
  if (j->state == STATE_DONE) return;
  j->state = STATE_DONE;
  addon *a = j->owner;
  a->alive--;
  if (j->poll_started) uv_poll_stop(&j->poll); /* removes the fd from epoll before it is closed */
  uv_timer_stop(&j->timer);
  close_fds(j);
  if (j->poll_started) uv_close((uv_handle_t *)&j->poll, on_handle_closed);
  uv_close((uv_handle_t *)&j->timer, on_handle_closed);

  napi_env env = j->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value done, global, argv[2], ignored;
  if (j->done && j->context && napi_get_reference_value(env, j->done, &done) == napi_ok && done != NULL && napi_get_global(env, &global) == napi_ok &&
      napi_create_int32(env, result, &argv[0]) == napi_ok && napi_create_double(env, (double)j->sent, &argv[1]) == napi_ok) {
    napi_status status = napi_make_callback(env, j->context, global, done, 2, argv, &ignored);
    if (status == napi_pending_exception) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }
  if (j->done) napi_delete_reference(env, j->done);
  j->done = NULL;
  if (j->context) napi_async_destroy(env, j->context);
  j->context = NULL;
  napi_close_handle_scope(env, scope);
}

/* What a send still has to do; the job's, or the start call's own before a job exists. */
typedef struct {
  int socket_fd;
  int file_fd;
  int64_t offset;
  int64_t remaining;
  int64_t sent;
  const char *head;
  size_t head_length;
  size_t head_offset;
} progress;

/*
 * Sends the rest of the head, then the range, until all is sent (RESULT_DONE), the socket is
 * full (RESULT_WOULD_BLOCK), `budget` bytes of the range went (RESULT_YIELD), the file ends
 * (RESULT_SHORT) or an error (-errno). Never waits: the socket is non-blocking. Any thread.
 */
static int send_some(progress *p, int64_t budget, const int *aborted) {
  while (p->head_offset < p->head_length) {
    if (aborted && __atomic_load_n(aborted, __ATOMIC_ACQUIRE)) return RESULT_ABORTED;
    ssize_t n = send(p->socket_fd, p->head + p->head_offset, p->head_length - p->head_offset, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      p->head_offset += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return RESULT_WOULD_BLOCK;
    return n < 0 ? -errno : -EPIPE;
  }
  int64_t moved = 0;
  while (p->remaining > 0) {
    if (aborted && __atomic_load_n(aborted, __ATOMIC_ACQUIRE)) return RESULT_ABORTED;
    if (moved >= budget) return RESULT_YIELD;
    off_t offset = (off_t)p->offset;
    size_t count = p->remaining > MAX_CALL_BYTES ? MAX_CALL_BYTES : (size_t)p->remaining;
    ssize_t n = sendfile(p->socket_fd, p->file_fd, &offset, count);
    if (n > 0) {
      p->offset += n;
      p->remaining -= n;
      p->sent += n;
      moved += n;
      continue;
    }
    if (n == 0) return RESULT_SHORT;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return RESULT_WOULD_BLOCK;
    return -errno;
  }
  return RESULT_DONE;
}

/* Whether reading byte `at` of the file would not wait for the disk (page cache); 0 also when unsure. */
static int page_cached(int fd, int64_t at) {
  char byte;
  struct iovec v = {.iov_base = &byte, .iov_len = 1};
  ssize_t n;
  do n = preadv2(fd, &v, 1, (off_t)at, RWF_NOWAIT);
  while (n < 0 && errno == EINTR);
  return n == 1;
}

/* Whether the range [offset, offset + length) looks in the page cache: its first and last pages are. */
static int range_cached(int fd, int64_t offset, int64_t length) {
  if (length <= 0) return 1;
  return page_cached(fd, offset) && (length <= 4096 || page_cached(fd, offset + length - 1));
}

static void progress_of(job *j, progress *p) {
  *p = (progress){j->socket_fd, j->file_fd, j->offset, j->remaining, j->sent, j->head, j->head_length, j->head_offset};
}

static void progress_to(job *j, const progress *p) {
  j->offset = p->offset;
  j->remaining = p->remaining;
  j->sent = p->sent;
  j->head_offset = p->head_offset;
}

/* Pool thread: sends until done, aborted, the file ends, an error, or the socket stays full. */
static void execute(napi_env env, void *data) {
  (void)env;
  job *j = data;
  progress p;
  progress_of(j, &p);
  for (;;) {
    int result = send_some(&p, INT64_MAX, &j->aborted);
    if (result == RESULT_WOULD_BLOCK) {
      struct pollfd fd = {.fd = p.socket_fd, .events = POLLOUT, .revents = 0};
      int ready = poll(&fd, 1, WAIT_IN_THREAD_MS);
      if (ready > 0 || (ready < 0 && errno == EINTR)) continue; /* writable, or an error the next call tells */
      if (ready < 0) result = -errno;
    }
    progress_to(j, &p);
    j->result = result;
    return;
  }
}

static void start_work(job *j);
static void on_work_done(napi_env env, napi_status status, void *data);
static void on_writable(uv_poll_t *handle, int status, int events);
static void on_timer(uv_timer_t *handle);

/* The job waits on the event loop for its socket to take bytes again (no thread held), `stall_ms` at most. Main thread. */
static void wait_writable(job *j) {
  addon *a = j->owner;
  int started = j->poll_started ? 0 : uv_poll_init(a->loop, &j->poll, j->socket_fd);
  if (started == 0) {
    if (!j->poll_started) {
      j->poll.data = j;
      j->poll_started = 1;
      j->refs++;
    }
    started = uv_poll_start(&j->poll, UV_WRITABLE | UV_DISCONNECT, on_writable);
  }
  if (started == 0) {
    a->waits++;
    j->state = STATE_WAITING;
    uv_timer_start(&j->timer, on_timer, j->stall_ms, 0);
  } else {
    finish(j, started);
  }
}

static void on_writable(uv_poll_t *handle, int status, int events) {
  (void)events;
  job *j = handle->data;
  if (j->state != STATE_WAITING) return;
  uv_poll_stop(&j->poll);
  uv_timer_stop(&j->timer);
  /* status < 0: libuv reports POLLERR as UV_EBADF; the next sendfile tells the real error
   * (EPIPE, ECONNRESET: the client went away) */
  (void)status;
  /* a libuv callback: no JavaScript scope around it, and pump makes JavaScript values */
  napi_handle_scope scope;
  if (napi_open_handle_scope(j->env, &scope) != napi_ok) {
    finish(j, -ENOMEM);
    return;
  }
  if (j->owner->inline_bytes > 0 && range_cached(j->file_fd, j->offset, j->remaining)) {
    progress p;
    progress_of(j, &p);
    int result = send_some(&p, j->owner->inline_bytes, NULL);
    progress_to(j, &p);
    if (result == RESULT_WOULD_BLOCK) wait_writable(j);
    else if (result == RESULT_YIELD) start_work(j);
    else finish(j, result);
  } else {
    start_work(j);
  }
  napi_close_handle_scope(j->env, scope);
}

static void on_timer(uv_timer_t *handle) {
  job *j = handle->data;
  if (j->state == STATE_WAITING) {
    finish(j, RESULT_STALLED);
  } else if (j->state == STATE_FINISHING) {
    finish(j, j->result);
  }
}

/* Ends a job from the event loop soon (never inside the caller's own call). */
static void finish_soon(job *j, int result) {
  if (j->poll_started) uv_poll_stop(&j->poll);
  j->result = result;
  j->state = STATE_FINISHING;
  uv_timer_start(&j->timer, on_timer, 0, 0);
}

static void enqueue(addon *a, job *j) {
  j->next = NULL;
  if (a->queue_tail) a->queue_tail->next = j;
  else a->queue_head = j;
  a->queue_tail = j;
}

static void unqueue(addon *a, job *j) {
  job **at = &a->queue_head;
  job *previous = NULL;
  while (*at && *at != j) {
    previous = *at;
    at = &(*at)->next;
  }
  if (!*at) return;
  *at = j->next;
  if (a->queue_tail == j) a->queue_tail = previous;
  j->next = NULL;
}

/* Starts queued jobs while pool threads are free. */
static void pump(addon *a) {
  while (a->queue_head && a->working < a->max_workers) {
    job *j = a->queue_head;
    a->queue_head = j->next;
    if (!a->queue_head) a->queue_tail = NULL;
    j->next = NULL;
    napi_value name;
    if (napi_create_string_utf8(j->env, "strato:sendfile", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_async_work(j->env, NULL, name, execute, on_work_done, j, &j->work) != napi_ok) {
      finish_soon(j, -ENOMEM);
      continue;
    }
    if (napi_queue_async_work(j->env, j->work) != napi_ok) {
      napi_delete_async_work(j->env, j->work);
      j->work = NULL;
      finish_soon(j, -ENOMEM);
      continue;
    }
    j->state = STATE_WORKING;
    a->working++;
    a->pool_works++;
  }
}

static void start_work(job *j) {
  addon *a = j->owner;
  j->state = STATE_QUEUED;
  enqueue(a, j);
  pump(a);
}

static void on_work_done(napi_env env, napi_status status, void *data) {
  job *j = data;
  addon *a = j->owner;
  napi_delete_async_work(env, j->work);
  j->work = NULL;
  a->working--;
  if (status != napi_ok) j->result = RESULT_ABORTED;
  else if (j->result == RESULT_WOULD_BLOCK && __atomic_load_n(&j->aborted, __ATOMIC_ACQUIRE)) j->result = RESULT_ABORTED;
  if (j->result == RESULT_WOULD_BLOCK) {
    wait_writable(j);
  } else {
    finish(j, j->result);
  }
  pump(a);
}

static void on_job_collected(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release((job *)data);
}

static addon *addon_of(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  addon *a = NULL;
  if (napi_get_cb_info(env, info, argc, argv, NULL, (void **)&a) != napi_ok) return NULL;
  return a;
}

static int int64_arg(napi_env env, napi_value value, int64_t min, int64_t max, int64_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok) return 0;
  if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d) return 0;
  *out = (int64_t)d;
  return 1;
}

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

static napi_value throw_errno(napi_env env, const char *what, int error) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(error));
  napi_throw_error(env, "ERR_STRATO_SENDFILE", message);
  return NULL;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  addon *a = addon_of(env, info, &argc, argv);
  if (!a) return NULL;
  if (argc < 6) return throw_range(env, "start(socketFd, fileFd, offset, length, stallMs, done, head?)");
  int64_t socket_fd, file_fd, offset, length, stall_ms;
  if (!int64_arg(env, argv[0], 0, INT32_MAX, &socket_fd) || !int64_arg(env, argv[1], 0, INT32_MAX, &file_fd)) return throw_range(env, "descriptors must be integers >= 0");
  /* 2^53 bounds what a JS number says exactly; off_t is 64-bit on Linux */
  if (!int64_arg(env, argv[2], 0, (int64_t)1 << 53, &offset) || !int64_arg(env, argv[3], 0, (int64_t)1 << 53, &length)) return throw_range(env, "offset and length must be integers >= 0");
  if (!int64_arg(env, argv[4], 1, MAX_STALL_MS, &stall_ms)) return throw_range(env, "stallMs must be an integer in [1, 600000]");
  napi_valuetype type;
  if (napi_typeof(env, argv[5], &type) != napi_ok || type != napi_function) return throw_range(env, "done must be a function");
  const char *head = NULL;
  size_t head_length = 0;
  if (argc >= 7 && napi_typeof(env, argv[6], &type) == napi_ok && type != napi_undefined) {
    bool is_typed = false;
    napi_typedarray_type kind;
    void *bytes = NULL;
    if (napi_is_typedarray(env, argv[6], &is_typed) != napi_ok || !is_typed ||
        napi_get_typedarray_info(env, argv[6], &kind, &head_length, &bytes, NULL, NULL) != napi_ok || kind != napi_uint8_array) {
      return throw_range(env, "head must be a Uint8Array");
    }
    if (head_length > MAX_HEAD_BYTES) return throw_range(env, "head too large");
    head = bytes;
  }

  /* the socket must be a stream socket; the file a regular file */
  int socket_type = 0;
  socklen_t type_length = sizeof socket_type;
  if (getsockopt((int)socket_fd, SOL_SOCKET, SO_TYPE, &socket_type, &type_length) != 0) return throw_errno(env, "socket descriptor", errno);
  if (socket_type != SOCK_STREAM) return throw_range(env, "not a stream socket");
  struct stat file_stat;
  if (fstat((int)file_fd, &file_stat) != 0) return throw_errno(env, "file descriptor", errno);
  if (!S_ISREG(file_stat.st_mode)) return throw_range(env, "not a regular file");
  /* libuv's sockets are non-blocking already (the flag belongs to the shared open file
   * description); make sure, so neither this thread nor a pool thread ever blocks in sendfile */
  int flags = fcntl((int)socket_fd, F_GETFL);
  if (flags < 0 || (!(flags & O_NONBLOCK) && fcntl((int)socket_fd, F_SETFL, flags | O_NONBLOCK) != 0)) return throw_errno(env, "non-blocking socket", errno);

  /* in the page cache: head and range now, on this thread, on the caller's descriptors */
  progress p = {(int)socket_fd, (int)file_fd, offset, length, 0, head, head_length, 0};
  int result = RESULT_WOULD_BLOCK;
  int cached = a->inline_bytes > 0 && range_cached((int)file_fd, offset, length);
  if (cached) {
    result = send_some(&p, a->inline_bytes, NULL);
    if (result == RESULT_DONE) {
      a->inline_sends++;
      napi_value yes;
      napi_get_boolean(env, true, &yes);
      return yes;
    }
  }

  /* the rest later: a job with its own descriptors and its own copy of the rest of the head */
  job *j = calloc(1, sizeof *j);
  if (!j) return throw_errno(env, "sendfile job", ENOMEM);
  j->socket_fd = -1;
  j->file_fd = -1;
  if (p.head_offset < head_length) {
    j->head_length = head_length - p.head_offset;
    j->head = malloc(j->head_length);
    if (!j->head) {
      free(j);
      return throw_errno(env, "sendfile job", ENOMEM);
    }
    memcpy(j->head, head + p.head_offset, j->head_length);
  }
  j->socket_fd = fcntl((int)socket_fd, F_DUPFD_CLOEXEC, 0);
  j->file_fd = j->socket_fd < 0 ? -1 : fcntl((int)file_fd, F_DUPFD_CLOEXEC, 0);
  if (j->file_fd < 0) {
    int error = errno;
    close_fds(j);
    free(j->head);
    free(j);
    /* bytes may have left already: the caller cuts the connection on any throw */
    return throw_errno(env, "dup of a descriptor", error);
  }
  j->owner = a;
  j->env = env;
  j->offset = p.offset;
  j->remaining = p.remaining;
  j->sent = p.sent;
  j->stall_ms = (uint32_t)stall_ms;
  j->refs = 1; /* the timer handle */
  uv_timer_init(a->loop, &j->timer);
  j->timer.data = j;

  napi_value object, name;
  if (napi_create_reference(env, argv[5], 1, &j->done) != napi_ok || napi_create_string_utf8(env, "strato:sendfile", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &j->context) != napi_ok || napi_create_external(env, j, on_job_collected, NULL, &object) != napi_ok) {
    /* nothing started yet: undo by the same path as a finished job (done is not called: no
     * reference or context yet, or the throw below tells) */
    a->alive++;
    finish(j, -ENOMEM);
    return throw_errno(env, "sendfile job", ENOMEM);
  }
  j->refs++; /* the JS object */
  a->alive++;
  if (!cached || result == RESULT_YIELD) start_work(j);
  else if (result == RESULT_WOULD_BLOCK) wait_writable(j);
  else finish_soon(j, result);
  return object;
}

static napi_value abort_job(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  addon *a = addon_of(env, info, &argc, argv);
  if (!a || argc < 1) return NULL;
  job *j = NULL;
  napi_valuetype type;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external || napi_get_value_external(env, argv[0], (void **)&j) != napi_ok || !j || j->owner != a) {
    return throw_range(env, "abort(job): not a job");
  }
  if (j->state == STATE_DONE || j->state == STATE_FINISHING) return NULL;
  __atomic_store_n(&j->aborted, 1, __ATOMIC_RELEASE);
  if (j->state == STATE_QUEUED) {
    unqueue(a, j);
    finish_soon(j, RESULT_ABORTED);
  } else if (j->state == STATE_WAITING) {
    uv_timer_stop(&j->timer);
    finish_soon(j, RESULT_ABORTED);
  }
  /* STATE_WORKING: the pool thread sees the flag at its next turn (at most WAIT_IN_THREAD_MS) */
  return NULL;
}

static napi_value configure(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  addon *a = addon_of(env, info, &argc, argv);
  if (!a || argc < 1) return NULL;
  int64_t workers, inline_bytes = a->inline_bytes;
  if (!int64_arg(env, argv[0], 1, 64, &workers)) return throw_range(env, "maxWorkers must be an integer in [1, 64]");
  if (argc >= 2 && !int64_arg(env, argv[1], 0, MAX_INLINE_BYTES, &inline_bytes)) return throw_range(env, "inlineBytes must be an integer in [0, 4 MiB]");
  a->max_workers = (uint32_t)workers;
  a->inline_bytes = inline_bytes;
  pump(a);
  return NULL;
}

static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  addon *a = addon_of(env, info, &argc, NULL);
  if (!a) return NULL;
  uint32_t queued = 0;
  for (job *j = a->queue_head; j; j = j->next) queued++;
  napi_value array, value;
  napi_create_array_with_length(env, 6, &array);
  napi_create_uint32(env, a->alive, &value);
  napi_set_element(env, array, 0, value);
  napi_create_uint32(env, a->working, &value);
  napi_set_element(env, array, 1, value);
  napi_create_uint32(env, queued, &value);
  napi_set_element(env, array, 2, value);
  napi_create_double(env, a->waits, &value);
  napi_set_element(env, array, 3, value);
  napi_create_double(env, a->inline_sends, &value);
  napi_set_element(env, array, 4, value);
  napi_create_double(env, a->pool_works, &value);
  napi_set_element(env, array, 5, value);
  return array;
}

static void addon_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  /* jobs still alive reference it only from callbacks that no longer run once the env is gone */
  (void)data;
}

NAPI_MODULE_INIT() {
  addon *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->max_workers = 2;
  a->inline_bytes = MAX_INLINE_BYTES;
  if (napi_get_uv_event_loop(env, &a->loop) != napi_ok) {
    free(a);
    return NULL;
  }
  napi_set_instance_data(env, a, addon_free, NULL);
  napi_property_descriptor properties[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_enumerable, a},
      {"abort", NULL, abort_job, NULL, NULL, NULL, napi_enumerable, a},
      {"configure", NULL, configure, NULL, NULL, NULL, napi_enumerable, a},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_enumerable, a},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}
