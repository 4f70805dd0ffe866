import { createHash } from 'node:crypto';

// TensorFlow prints a few lines while its library loads (the oneDNN notice, and on the CUDA
// build the "Unable to register cu… factory" lines), before its logging is set up, so
// TF_CPP_MIN_LOG_LEVEL cannot silence them, and Node cannot redirect a native library's stderr.
// `segtune setup tensorflow` therefore builds this small addon beside the binding: it loads
// libtensorflow_cc with stderr sent to a temporary file, then writes back whatever else was
// printed meanwhile (by other threads) and drops TensorFlow's own pre-logging lines. The
// binding, loaded next, finds the library already loaded (same soname) and prints nothing.
// fd 2 is the process's, shared by its worker threads: one mutex keeps two threads' loads from
// interleaving their dup2s (the second would save the first's temporary file as "stderr" and
// restore it, losing stderr for good), and a library already loaded is not redirected at all.
export const QUIET_LOAD_CC = String.raw`
#include <node_api.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <mutex>
#include <string>

static std::mutex load_mutex;

static napi_value Load(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  char path[4096];
  size_t len = 0;
  napi_get_value_string_utf8(env, args[0], path, sizeof path, &len);
  bool quiet = false;
  napi_get_value_bool(env, args[1], &quiet);
  std::lock_guard<std::mutex> guard(load_mutex);
  void* loaded = dlopen(path, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
  if (loaded) quiet = false; // nothing left to print
  int saved = -1, tmp = -1;
  if (quiet) {
    fflush(stderr);
    char name[] = "/tmp/segtune-tf-load-XXXXXX";
    tmp = mkstemp(name);
    if (tmp >= 0) {
      unlink(name);
      saved = dup(2);
      if (saved < 0 || dup2(tmp, 2) < 0) { if (saved >= 0) close(saved); saved = -1; }
    }
  }
  void* handle = loaded ? loaded : dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  std::string error = handle ? "" : dlerror();
  std::string captured;
  if (saved >= 0) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(tmp, 0, SEEK_SET);
    char buf[8192];
    ssize_t n;
    while ((n = read(tmp, buf, sizeof buf)) > 0) captured.append(buf, n);
  }
  if (tmp >= 0) close(tmp);
  napi_value result, v;
  napi_create_object(env, &result);
  napi_get_boolean(env, handle != nullptr, &v);
  napi_set_named_property(env, result, "ok", v);
  napi_create_string_utf8(env, error.c_str(), error.size(), &v);
  napi_set_named_property(env, result, "error", v);
  napi_create_string_utf8(env, captured.c_str(), captured.size(), &v);
  napi_set_named_property(env, result, "captured", v);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "load", NAPI_AUTO_LENGTH, Load, nullptr, &fn);
  napi_set_named_property(env, exports, "load", fn);
  return exports;
}
`;

export const QUIET_LOAD_GYP = JSON.stringify({ targets: [{ target_name: 'quiet_load', sources: ['quiet_load.cc'], libraries: ['-ldl'] }] });

/**
 * Which quiet loader an install holds (ready.json's `quietLoader`): a digest of its source and
 * build file, so that a change to either rebuilds the loader of every cached install.
 */
export const QUIET_LOADER_ID = createHash('sha256').update(QUIET_LOAD_CC).update(QUIET_LOAD_GYP).digest('hex').slice(0, 16);

/** TensorFlow's lines from before its logging starts (absl's format, and its preamble). */
const TF_PRELOG = /^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.+-]+:\d+\] .*)$/;

/** What of the captured output belongs to someone else, to be written back. */
export function notTensorflowLines(captured: string): string {
  return captured
    .split('\n')
    .filter((line, i, all) => !TF_PRELOG.test(line) && !(i === all.length - 1 && line === ''))
    .map((l) => `${l}\n`)
    .join('');
}
