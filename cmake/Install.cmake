# `cmake --install`: libquic (the sans-IO core), libquic_uv (the libuv layer), libqlog, their
# public headers, the quiver binary, a CMake package (find_package(quic): targets quic::quic,
# quic::quic_uv, quic::qlog) and a pkg-config file (quic.pc). docs/api.md says how to use it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Installed libraries find each other next to themselves; BoringSSL's private directory is
# in their RUNPATH already (the -rpath link option of quiver::boringssl).
set_target_properties(quic quic_uv qlog PROPERTIES INSTALL_RPATH "$ORIGIN")
set_target_properties(quiver PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")

install(TARGETS quic quic_uv qlog quiver_boringssl quiver_libuv
        EXPORT quicTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS quiver RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/libquic/include/quic
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/qlog/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qlog
        FILES_MATCHING PATTERN "*.h")

set(QUIC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/quic)
install(EXPORT quicTargets NAMESPACE quic:: DESTINATION ${QUIC_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/quicConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/quicConfig.cmake
                              INSTALL_DESTINATION ${QUIC_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/quicConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/quicConfig.cmake ${PROJECT_BINARY_DIR}/quicConfigVersion.cmake
        DESTINATION ${QUIC_CMAKE_DIR})

# The .pc file finds the prefix from its own directory (${pcfiledir}), so a package installed
# with `cmake --install --prefix DIR` works wherever DIR is.
file(RELATIVE_PATH QUIC_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/quic.pc.in ${PROJECT_BINARY_DIR}/quic.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/quic.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
