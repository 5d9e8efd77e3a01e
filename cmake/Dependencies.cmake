# Every dependency comes from a Debian package; when one is missing, say which package
# brings it (scripts/setup installs them all).

function(quiver_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "quiver: ${what} not found. Install it with: apt-get install ${package}")
  endif()
endfunction()

# BoringSSL, as Debian's Android build ships it: headers under /usr/include/android (searched
# before the system's OpenSSL headers), libraries in a private directory reached by rpath.
set(QUIVER_BORINGSSL_LIBDIR "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/android")
find_path(BORINGSSL_INCLUDE_DIR openssl/is_boringssl.h PATHS /usr/include/android NO_DEFAULT_PATH)
find_library(BORINGSSL_SSL_LIBRARY ssl PATHS ${QUIVER_BORINGSSL_LIBDIR} NO_DEFAULT_PATH)
find_library(BORINGSSL_CRYPTO_LIBRARY crypto PATHS ${QUIVER_BORINGSSL_LIBDIR} NO_DEFAULT_PATH)
quiver_require(BORINGSSL_INCLUDE_DIR "BoringSSL headers (openssl/is_boringssl.h)" android-libboringssl-dev)
quiver_require(BORINGSSL_SSL_LIBRARY "BoringSSL libssl" android-libboringssl-dev)
quiver_require(BORINGSSL_CRYPTO_LIBRARY "BoringSSL libcrypto" android-libboringssl-dev)
add_library(quiver_boringssl INTERFACE)
target_include_directories(quiver_boringssl SYSTEM BEFORE INTERFACE ${BORINGSSL_INCLUDE_DIR})
target_link_libraries(quiver_boringssl INTERFACE ${BORINGSSL_SSL_LIBRARY} ${BORINGSSL_CRYPTO_LIBRARY})
target_link_options(quiver_boringssl INTERFACE "LINKER:-rpath,${QUIVER_BORINGSSL_LIBDIR}")
add_library(quiver::boringssl ALIAS quiver_boringssl)

# libuv
find_path(LIBUV_INCLUDE_DIR uv.h)
find_library(LIBUV_LIBRARY uv)
quiver_require(LIBUV_INCLUDE_DIR "libuv headers (uv.h)" libuv1-dev)
quiver_require(LIBUV_LIBRARY "libuv" libuv1-dev)
add_library(quiver_libuv INTERFACE)
target_include_directories(quiver_libuv SYSTEM INTERFACE ${LIBUV_INCLUDE_DIR})
target_link_libraries(quiver_libuv INTERFACE ${LIBUV_LIBRARY})
add_library(quiver::libuv ALIAS quiver_libuv)

find_package(CLI11 CONFIG QUIET)
quiver_require(CLI11_FOUND "CLI11" libcli11-dev)

find_package(nlohmann_json CONFIG QUIET)
quiver_require(nlohmann_json_FOUND "nlohmann/json" nlohmann-json3-dev)

if(QUIVER_BUILD_TESTS)
  find_package(doctest CONFIG QUIET)
  quiver_require(doctest_FOUND "doctest" doctest-dev)
endif()
