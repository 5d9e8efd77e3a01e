# Interop tests: quiver against quic-go's interop client and server and ngtcp2's
# gtlsclient/gtlsserver (tests/interop/run; scripts/peers installs and builds the peers). One ctest entry per (client, server, case).
# A test whose peer or tool is missing exits 77 and ctest reports it skipped; with CI=true
# in the environment it fails instead. Each run lives in its own network namespace, so
# the tests can run in parallel. Exclude them all with: ctest -LE interop
set(QUIVER_INTEROP_RUN ${CMAKE_CURRENT_LIST_DIR}/run)

function(quiver_add_interop_test client server case)
  set(name "interop: ${client}-client ${server}-server ${case}")
  add_test(NAME "${name}"
           COMMAND bash ${QUIVER_INTEROP_RUN} --quiver $<TARGET_FILE:quiver> ${client} ${server} ${case})
  # The harness gives itself 60 s; the rest is for tshark's decoding and cleanup.
  set_tests_properties("${name}" PROPERTIES TIMEOUT 90 SKIP_RETURN_CODE 77 LABELS interop)
endfunction()

foreach(case handshake transfer retry resumption zerortt chacha20 multiconnect)
  quiver_add_interop_test(quiver quic-go ${case})
  quiver_add_interop_test(quic-go quiver ${case})
endforeach()
# keyupdate: the quic-go client updates its keys every 100 packets; quiver must follow.
quiver_add_interop_test(quic-go quiver keyupdate)

# HTTP/3 (ALPN h3): quiver against quic-go and ngtcp2 (gtlsclient/gtlsserver), both ways.
foreach(peer quic-go ngtcp2)
  quiver_add_interop_test(quiver ${peer} http3)
  quiver_add_interop_test(${peer} quiver http3)
endforeach()

# Sanity: the harness and its wire checks against quic-go alone.
foreach(case handshake retry zerortt)
  quiver_add_interop_test(quic-go quic-go ${case})
endforeach()

# quiver-netsim's sans-IO model (interop/netsim/) on a virtual clock: runs in every build.
file(GLOB NETSIM_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/netsim/*.cpp)
add_executable(netsim_tests ${NETSIM_TEST_SOURCES})
target_link_libraries(netsim_tests PRIVATE netsim_core doctest::doctest)
quiver_add_doctest_files(netsim_tests netsim ${NETSIM_TEST_SOURCES})

# quiver-netsim on real sockets, through TUN devices in namespaces: the configured rate and
# one-way delay within 5 % (root; skipped otherwise).
add_test(NAME "interop: netsim rate and delay"
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/netsim_rate_delay.sh $<TARGET_FILE_DIR:quiver-netsim>)
set_tests_properties("interop: netsim rate and delay" PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77
                     LABELS interop)
