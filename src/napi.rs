//! The release hook for runtimes whose FFI has none (Deno, Node): a Node-API module with one
//! function, `wrap(address, length, id, owned)`, that returns an `ArrayBuffer` over a live
//! mapping made by this library. The runtime calls the buffer's finalizer when it frees the
//! memory: after the last owner let go, whichever object, thread, clone or pending operation
//! that was. The finalizer drops the mapping's hold (see `registry`).
//!
//! A runtime that cannot move such a buffer out of the environment (thread) that made it, and
//! that ends an environment without calling the finalizers of its buffers (Node, when a Worker
//! thread stops), passes `owned`: the environment's cleanup hook then unmaps what is left.
//!
//! The Node-API functions are looked up when the module is registered (`dlsym`), so the library
//! has no undefined symbols: it links and loads anywhere, and only a runtime that exports
//! Node-API ever calls [`napi_register_module_v1`].

use std::ffi::{CStr, c_char, c_void};
use std::sync::OnceLock;

use crate::mapping;

type Env = *mut c_void;
type Value = *mut c_void;
type CallbackInfo = *mut c_void;
type Status = i32;
type Finalize = unsafe extern "C" fn(Env, *mut c_void, *mut c_void);
type Callback = unsafe extern "C" fn(Env, CallbackInfo) -> Value;

/// `napi_ok`.
const OK: Status = 0;

/// `napi_create_function`.
type CreateFunction =
    unsafe extern "C" fn(Env, *const c_char, usize, Callback, *mut c_void, *mut Value) -> Status;
/// `napi_set_named_property`.
type SetNamedProperty = unsafe extern "C" fn(Env, Value, *const c_char, Value) -> Status;
/// `napi_get_cb_info`.
type GetCbInfo = unsafe extern "C" fn(
    Env,
    CallbackInfo,
    *mut usize,
    *mut Value,
    *mut Value,
    *mut *mut c_void,
) -> Status;
/// `napi_get_value_double`.
type GetValueDouble = unsafe extern "C" fn(Env, Value, *mut f64) -> Status;
/// `napi_create_external_arraybuffer`.
type CreateExternalArrayBuffer =
    unsafe extern "C" fn(Env, *mut c_void, usize, Finalize, *mut c_void, *mut Value) -> Status;
/// `napi_throw_error`.
type ThrowError = unsafe extern "C" fn(Env, *const c_char, *const c_char) -> Status;
/// `napi_get_value_bool`.
type GetValueBool = unsafe extern "C" fn(Env, Value, *mut bool) -> Status;
/// A cleanup hook: `void (*)(void *arg)`.
type CleanupHook = unsafe extern "C" fn(*mut c_void);
/// `napi_add_env_cleanup_hook`.
type AddEnvCleanupHook = unsafe extern "C" fn(Env, CleanupHook, *mut c_void) -> Status;

/// The Node-API functions this module calls.
struct Api {
    create_function: CreateFunction,
    set_named_property: SetNamedProperty,
    get_cb_info: GetCbInfo,
    get_value_double: GetValueDouble,
    create_external_arraybuffer: CreateExternalArrayBuffer,
    throw_error: ThrowError,
    get_value_bool: GetValueBool,
    /// Absent from runtimes that never end an environment early.
    add_env_cleanup_hook: Option<AddEnvCleanupHook>,
}

static API: OnceLock<Option<Api>> = OnceLock::new();

/// Looks up one function the running process exports.
fn symbol(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: `name` is a valid C string; RTLD_DEFAULT searches the process's global symbols.
    let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!found.is_null()).then_some(found)
}

/// Reinterprets a symbol as the function type its Node-API header declares.
macro_rules! function {
    ($name:literal as $type:ty) => {{
        let found = symbol($name)?;
        // SAFETY: the symbol is the Node-API function of this name, whose C signature is
        // `$type` (from js_native_api.h).
        unsafe { std::mem::transmute::<*mut c_void, $type>(found) }
    }};
}

fn api() -> Option<&'static Api> {
    API.get_or_init(|| {
        Some(Api {
            create_function: function!(c"napi_create_function" as CreateFunction),
            set_named_property: function!(c"napi_set_named_property" as SetNamedProperty),
            get_cb_info: function!(c"napi_get_cb_info" as GetCbInfo),
            get_value_double: function!(c"napi_get_value_double" as GetValueDouble),
            create_external_arraybuffer: function!(
                c"napi_create_external_arraybuffer" as CreateExternalArrayBuffer
            ),
            throw_error: function!(c"napi_throw_error" as ThrowError),
            get_value_bool: function!(c"napi_get_value_bool" as GetValueBool),
            add_env_cleanup_hook: symbol(c"napi_add_env_cleanup_hook").map(|found| {
                // SAFETY: the symbol is `napi_add_env_cleanup_hook`, whose C signature is
                // `AddEnvCleanupHook` (from node_api.h).
                unsafe { std::mem::transmute::<*mut c_void, AddEnvCleanupHook>(found) }
            }),
        })
    })
    .as_ref()
}

/// The buffer's finalizer: the runtime has let go of the memory. It may run on any thread
/// (Deno runs it where the last owner dropped it: a garbage-collector or I/O thread), so it
/// only drops the hold, which is thread-safe, and never calls back into Node-API.
unsafe extern "C" fn finalize(_env: Env, data: *mut c_void, hint: *mut c_void) {
    crate::mmap_ffi_release(data, hint);
}

/// The cleanup hook of an environment: it has ended, and with it every buffer `wrap` made in it
/// with `owned` (their finalizers will not run).
unsafe extern "C" fn environment_ended(env: *mut c_void) {
    let _ = std::panic::catch_unwind(|| mapping::abandon_owned_by(env as usize));
}

/// Throws a JavaScript `Error` and returns the "no value" result.
///
/// # Safety
/// `env` must be the environment of the current call.
unsafe fn throw(api: &Api, env: Env, message: &CStr) -> Value {
    // SAFETY: `env` is the current call's and both strings are valid C strings.
    unsafe { (api.throw_error)(env, c"ERR_MMAP_INTERNAL".as_ptr(), message.as_ptr()) };
    std::ptr::null_mut()
}

/// A number argument that is a whole number below 2^53.
///
/// # Safety
/// `env` and `value` must belong to the current call.
unsafe fn whole(api: &Api, env: Env, value: Value) -> Option<u64> {
    let mut number = f64::NAN;
    // SAFETY: `number` is writable; a value that is not a number makes the call fail.
    let status = unsafe { (api.get_value_double)(env, value, &mut number) };
    let exact = (0.0..9_007_199_254_740_992.0).contains(&number) && number.fract() == 0.0;
    (status == OK && exact).then_some(number as u64)
}

/// `wrap(address, length, id, owned = false)`: an `ArrayBuffer` over the live mapping at
/// `address` (which must have this length and id and no buffer yet), without copying. The
/// buffer owns the mapping's first hold from now on and drops it from its finalizer. With
/// `owned`, the mapping is unmapped when this environment ends, if it has not been before.
unsafe extern "C" fn wrap(env: Env, info: CallbackInfo) -> Value {
    let Some(api) = api() else {
        return std::ptr::null_mut();
    };
    let mut count = 4usize;
    let mut args = [std::ptr::null_mut(); 4];
    // SAFETY: `args` has room for `count` values; the other outputs may be null.
    let status = unsafe {
        (api.get_cb_info)(
            env,
            info,
            &mut count,
            args.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    let [address, length, id, owned] = args;
    // SAFETY: `env` and the values belong to this call.
    let numbers = [address, length, id].map(|value| unsafe { whole(api, env, value) });
    let mut is_owned = false;
    // SAFETY: as above; with three arguments `owned` is left false.
    let owned_ok = count == 3
        || unsafe { (api.get_value_bool)(env, owned, &mut is_owned) } == OK && count == 4;
    let (OK, true, [Some(address), Some(length), Some(id)]) = (status, owned_ok, numbers) else {
        // SAFETY: `env` is this call's.
        return unsafe {
            throw(
                api,
                env,
                c"mmap: wrap(address, length, id, owned?) takes three numbers and a boolean",
            )
        };
    };
    let (address, length) = (address as usize, length as usize);
    let owner = if is_owned { env as usize } else { 0 };
    if length == 0 || mapping::mark_wrapped(address, id, length, owner).is_err() {
        // SAFETY: `env` is this call's.
        return unsafe { throw(api, env, c"mmap: not a live mapping without a buffer") };
    }
    let mut buffer = std::ptr::null_mut();
    // SAFETY: the registry holds `length` bytes at `address` for this buffer alone (just marked
    // wrapped), and they stay mapped until its finalizer drops the hold; the id travels as the
    // finalizer's hint (ids are below 2^53, so they fit a pointer on 64-bit targets).
    let status = unsafe {
        (api.create_external_arraybuffer)(
            env,
            address as *mut c_void,
            length,
            finalize,
            id as usize as *mut c_void,
            &mut buffer,
        )
    };
    if status != OK {
        // No buffer owns the hold: give it back as the finalizer would have.
        let _ = mapping::release(address, id);
        // SAFETY: `env` is this call's.
        return unsafe {
            throw(
                api,
                env,
                c"mmap: the runtime refused an external ArrayBuffer",
            )
        };
    }
    buffer
}

/// Registers the module: `exports.wrap`. Runtimes call this when the library is loaded with
/// `process.dlopen`. Without Node-API in the process it returns `exports` unchanged.
///
/// # Safety
/// Called by a Node-API runtime with a valid environment and exports object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn napi_register_module_v1(env: Env, exports: Value) -> Value {
    let Some(api) = api() else {
        return exports;
    };
    let mut function = std::ptr::null_mut();
    // SAFETY: `env` and `exports` come from the runtime; the name is a valid C string of the
    // given length and `wrap` has the callback signature.
    unsafe {
        let made = (api.create_function)(
            env,
            c"wrap".as_ptr(),
            4,
            wrap,
            std::ptr::null_mut(),
            &mut function,
        );
        if made == OK {
            (api.set_named_property)(env, exports, c"wrap".as_ptr(), function);
        }
        if let Some(add_env_cleanup_hook) = api.add_env_cleanup_hook {
            add_env_cleanup_hook(env, environment_ended, env);
        }
    }
    exports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_node_api_the_module_registers_nothing() {
        // cargo test's process exports no Node-API: the lookup fails instead of linking.
        assert!(symbol(c"napi_create_external_arraybuffer").is_none());
        assert!(api().is_none());
        let exports = 0x10 as Value;
        // SAFETY: without Node-API nothing is dereferenced.
        assert_eq!(
            unsafe { napi_register_module_v1(std::ptr::null_mut(), exports) },
            exports
        );
    }
}
