// libquic: QUIC (RFC 9000, 9001, 9002, 9221, 9368, 9369) and HTTP/3 (RFC 9114, 9204) for C++20.
// The umbrella header; docs/api.md maps quic-go's API onto this one.
//
// Two layers:
//   - the sans-IO core: Endpoint (quic/endpoint.h) and Connection (quic/connection.h) take
//     datagrams and time and give back datagrams and events (quic/events.h); no sockets,
//     clocks or threads. Tests and simulators drive it directly.
//   - the libuv layer (quic/uv/): Transport (one UDP socket: listen and dial), Listener,
//     Connection and Stream with callbacks on a uv_loop_t. What most programs use.
// TLS is BoringSSL (quic/tls_context.h, quic/certificate.h); tracing goes through
// quic/tracer.h (the qlog library implements it).
#pragma once

#include "quic/address.h"
#include "quic/bytes.h"
#include "quic/certificate.h"
#include "quic/config.h"
#include "quic/connection.h"
#include "quic/connection_id.h"
#include "quic/connection_info.h"
#include "quic/endpoint.h"
#include "quic/error.h"
#include "quic/events.h"
#include "quic/random.h"
#include "quic/result.h"
#include "quic/stream_source.h"
#include "quic/time.h"
#include "quic/tls_context.h"
#include "quic/tracer.h"
#include "quic/uv/clock.h"
#include "quic/uv/connection.h"
#include "quic/uv/session_store.h"
#include "quic/uv/stream.h"
#include "quic/uv/transport.h"
#include "quic/version.h"
