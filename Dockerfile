# hes-gate: build on a full image, run on a slim one with what `npm pack` ships (package.json
# "files") and production dependencies only. Install and run: docs/install.md.
#
#   docker build --build-arg HES_GATE_COMMIT=$(git rev-parse HEAD) -t hes-gate .

FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Native modules (better-sqlite3, serialport bindings) are compiled here, for this image's Node.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 @serialport/bindings-cpp
COPY tsconfig.json README.md ./
COPY src ./src
COPY bench ./bench
COPY config ./config
COPY devices ./devices
COPY docs ./docs
COPY packaging ./packaging
# No .git in the build context: the commit `hes-gate --version` names comes from this argument.
ARG HES_GATE_COMMIT=unknown
RUN HES_GATE_COMMIT="$HES_GATE_COMMIT" npm run build \
 && npm pack --ignore-scripts --silent \
 && mkdir /package \
 && tar -xzf hes-gate-*.tgz -C /package --strip-components=1 \
 && npm prune --omit=dev

FROM node:24-bookworm-slim
# No working default: a container started without configuration refuses to start and says what
# it needs (the ministry user, the secret files below, the tokens), rather than serving the live
# environment without credentials. Secrets are files (Docker/Compose secrets, or a read-only
# mount at /run/secrets/hes-gate), never environment values.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=16 \
    HES_GATE_CONFIG=live \
    HES_GATE_HOST=0.0.0.0 \
    HES_GATE_DATA_DIR=/var/lib/hes-gate \
    HES_GATE_MINISTRY_PASSWORD_FILE=/run/secrets/hes-gate/ministry-password \
    HES_GATE_API_TOKEN_FILE=/run/secrets/hes-gate/api-token \
    HES_GATE_ADMIN_TOKEN_FILE=/run/secrets/hes-gate/admin-token
WORKDIR /app
# A non-root user in the dialout group (gid 20 in Debian), so it may open /dev/ttyS*,
# /dev/ttyUSB* and /dev/ttyACM* passed in with --device.
RUN groupadd --system hesgate \
 && useradd --system --gid hesgate --groups dialout --home-dir /app --shell /usr/sbin/nologin hesgate \
 && mkdir -p /var/lib/hes-gate \
 && chown hesgate:hesgate /var/lib/hes-gate \
 && chmod 0700 /var/lib/hes-gate
COPY --from=build /package ./
COPY --from=build /app/node_modules ./node_modules
USER hesgate
VOLUME ["/var/lib/hes-gate"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HES_GATE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
