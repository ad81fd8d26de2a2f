# crosswatch front door.
#   make demo  - install Debian packages, build, run the demo on embedded defaults
#   make test  - install, build with ASan+UBSan and -Werror, run the whole CTest suite
#
# Both are meant to run as root on a fresh Debian 12 machine. The package install is
# idempotent: apt-get only runs when a package in DEB_PACKAGES is missing.

DEB_PACKAGES := build-essential cmake pkg-config clang libclang-rt-14-dev \
	libmicrohttpd-dev libsqlite3-dev libsodium-dev libzstd-dev zlib1g-dev \
	libjsmn-dev libcurl4-openssl-dev python3 goaccess curl openssl zstd \
	libyaml-dev libpcre2-dev libhyperscan-dev knot-dnsutils nsd dnsperf unbound libssl-dev libnghttp2-dev \
	libfstrm-dev libprotobuf-c-dev protobuf-c-compiler fstrm-bin \
	libpsl-dev publicsuffix wamerican libunbound-dev libevent-dev dns-root-data \
	libgmime-3.0-dev libarchive-dev libmagic-dev libyara-dev libgsf-1-dev python3-jsonschema \
	nodejs npm chromium fonts-noto-cjk

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD_DIR ?= build
TEST_BUILD_DIR ?= build-asan

.PHONY: all demo test deps build build-asan bench clean fuzz

all: build

# npm counts as present when an npm runs: a nodejs from NodeSource provides it (and
# conflicts with Debian's npm package), Debian's nodejs needs the npm package.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  case $$p in npm) command -v npm >/dev/null && continue;; esac; \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing; \
	else echo "Debian packages: all present"; fi

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(TEST_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug -DCW_SANITIZE=ON
	cmake --build $(TEST_BUILD_DIR) -j $(JOBS)

demo: build
	./$(BUILD_DIR)/crosswatch demo $(DEMO_ARGS)

test: build-asan
	cd $(TEST_BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	./$(BUILD_DIR)/bench_ingest

fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCW_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) build-fuzz
