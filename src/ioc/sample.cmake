# Sample analysis (src/ioc/sample*.c, contract src/ioc/sample.h): e-mail and file
# analysis with GMime, libarchive, libmagic, libyara and OpenSSL's digests.
add_library(cw_sample STATIC
  ${CMAKE_SOURCE_DIR}/src/ioc/sample_analyse.c
  ${CMAKE_SOURCE_DIR}/src/ioc/sample_archive.c
  ${CMAKE_SOURCE_DIR}/src/ioc/sample_hdr.c
  ${CMAKE_SOURCE_DIR}/src/ioc/sample_mime.c
  ${CMAKE_SOURCE_DIR}/src/ioc/sample_msg.c
  ${CMAKE_SOURCE_DIR}/src/ioc/sample_report.c
  ${CMAKE_SOURCE_DIR}/src/ioc/sample_urls.c
  ${CMAKE_SOURCE_DIR}/src/ioc/sample_yara.c)
# libgsf reads Outlook .msg compound files (sample_msg.c)
pkg_check_modules(GSF REQUIRED IMPORTED_TARGET libgsf-1)
target_link_libraries(cw_sample PUBLIC cw_ioc cw_common PkgConfig::GMIME PkgConfig::ARCHIVE
                      PkgConfig::MAGIC PkgConfig::YARA PkgConfig::OPENSSL PkgConfig::GSF)
# `crosswatch sample analyse` (src/cli/cmd_sample.c) needs the library; the binary is
# defined after this file is included, so the link is added once the directory is done.
cmake_language(DEFER CALL target_link_libraries crosswatch PRIVATE cw_sample)
