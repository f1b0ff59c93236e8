# hes-gate: build on a full image, run on a slim one with production dependencies only.

FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Native modules (better-sqlite3, serialport bindings) are compiled here, for this image's Node.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 @serialport/bindings-cpp
COPY tsconfig.json ./
COPY src ./src
COPY bench ./bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HES_GATE_CONFIG=live \
    HES_GATE_HOST=0.0.0.0 \
    HES_GATE_DATA_DIR=/var/lib/hes-gate
WORKDIR /app
# A non-root user in the dialout group, so it may open /dev/ttyS*, /dev/ttyUSB* and /dev/ttyACM*
# passed in with --device.
RUN groupadd --system hesgate \
 && useradd --system --gid hesgate --groups dialout --home-dir /app --shell /usr/sbin/nologin hesgate \
 && mkdir -p /var/lib/hes-gate \
 && chown hesgate:hesgate /var/lib/hes-gate
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
COPY devices ./devices
USER hesgate
VOLUME ["/var/lib/hes-gate"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HES_GATE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
