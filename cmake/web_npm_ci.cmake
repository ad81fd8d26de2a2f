# cmake -P helper of cmake/web.cmake: `npm ci` of web/package-lock.json in DIR (a cache
# under the build folder, with its own npm cache), failing loudly when the registry is
# not reachable. Variables: SRC (web/), DIR, NPM, STAMP.
file(MAKE_DIRECTORY ${DIR})
file(COPY ${SRC}/package.json ${SRC}/package-lock.json DESTINATION ${DIR})
execute_process(
  COMMAND ${NPM} ci --no-audit --no-fund --loglevel=error --cache ${DIR}/.npm-cache
  WORKING_DIRECTORY ${DIR}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR
    "crosswatch web UI: `npm ci` failed in ${DIR} (exit ${rc}).\n"
    "The front end is bundled at build time with esbuild from the npm registry "
    "(and tested with playwright-core): the registry must be reachable while building, "
    "or ${DIR}/node_modules must already hold web/package-lock.json's packages.\n"
    "npm said:\n${err}${out}")
endif()
file(TOUCH ${STAMP})
