# The web front end (web/): `npm ci` of esbuild and playwright-core into a cache under
# the build folder (re-run only when web/package-lock.json changes), then esbuild bundles
# web/src into ${CMAKE_BINARY_DIR}/web (index.html + assets/), where `crosswatch serve`
# finds it beside the binary. Part of ALL, so `make demo` and `make test` get it.
# Needs Debian's nodejs + npm and the npm registry; without them the build fails with a
# clear message rather than quietly building a center without its UI.
find_program(CW_NODE node)
find_program(CW_NPM npm)
if(NOT CW_NODE OR NOT CW_NPM)
  message(FATAL_ERROR "crosswatch web UI: node and npm are needed to build web/ "
          "(Debian packages nodejs npm; `make deps` installs them)")
endif()

set(CW_WEB_SRC ${CMAKE_SOURCE_DIR}/web)
set(CW_WEB_NPM ${CMAKE_BINARY_DIR}/web-npm)
set(CW_WEB_OUT ${CMAKE_BINARY_DIR}/web)
set(CW_WEB_STAMP ${CW_WEB_NPM}/npm-ci.stamp)

add_custom_command(OUTPUT ${CW_WEB_STAMP}
  COMMAND ${CMAKE_COMMAND} -DSRC=${CW_WEB_SRC} -DDIR=${CW_WEB_NPM} -DNPM=${CW_NPM}
          -DSTAMP=${CW_WEB_STAMP} -P ${CMAKE_SOURCE_DIR}/cmake/web_npm_ci.cmake
  DEPENDS ${CW_WEB_SRC}/package.json ${CW_WEB_SRC}/package-lock.json
          ${CMAKE_SOURCE_DIR}/cmake/web_npm_ci.cmake
  COMMENT "web: npm ci (esbuild, playwright-core) into ${CW_WEB_NPM}"
  VERBATIM)

file(GLOB_RECURSE CW_WEB_SOURCES CONFIGURE_DEPENDS ${CW_WEB_SRC}/src/*)
add_custom_command(OUTPUT ${CW_WEB_OUT}/index.html
  COMMAND ${CW_NODE} ${CW_WEB_SRC}/build.mjs --out ${CW_WEB_OUT} --modules ${CW_WEB_NPM}/node_modules
  DEPENDS ${CW_WEB_STAMP} ${CW_WEB_SRC}/build.mjs ${CW_WEB_SOURCES}
  COMMENT "web: esbuild bundle into ${CW_WEB_OUT}"
  VERBATIM)
add_custom_target(cw_web ALL DEPENDS ${CW_WEB_OUT}/index.html)
install(DIRECTORY ${CW_WEB_OUT}/ DESTINATION share/crosswatch/web OPTIONAL)
