# syntax=docker/dockerfile:1
# Rune server image: one image, two roles (`vault serve` / `index serve`), chosen by the command.
#   docker build -t rune:dev .
#   docker run --rm rune:dev --help
# See deploy/container/README.md (compose) and deploy/kubernetes/README.md.

# ---- build: production dependencies only, plus tsx (the bin runs the TypeScript sources) ----
FROM node:20-bookworm-slim AS build
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    NODE_ENV=production \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /app
# Manifests first so the dependency layer is cached across source changes.
COPY package.json package-lock.json .npmrc ./
COPY packages/client/package.json packages/client/
COPY packages/crypto/package.json packages/crypto/
COPY packages/embed/package.json packages/embed/
COPY packages/protocol/package.json packages/protocol/
COPY packages/runtime/package.json packages/runtime/
COPY packages/tls/package.json packages/tls/
COPY apps/cli/package.json apps/cli/
COPY apps/index/package.json apps/index/
COPY apps/vault/package.json apps/vault/
# `npm ci --omit=dev` installs the workspaces' runtime dependencies from the lockfile. tsx is a root
# devDependency, but apps/cli/bin/rune.js loads it at run time, so it alone is added back at the
# lockfile's version. It goes through a separate prefix because `npm install --omit=dev tsx` in this
# workspace keeps treating it as a dev dependency and leaves it out. No other dev tool is installed.
RUN npm ci --omit=dev \
 && TSX_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")" \
 && npm install --prefix /tmp/tsx --no-save --no-package-lock "tsx@${TSX_VERSION}" \
 && rm /tmp/tsx/node_modules/.package-lock.json \
 && cp -Rn /tmp/tsx/node_modules/. node_modules/ \
 && rm -rf /tmp/tsx \
 && npm cache clean --force
COPY tsconfig.base.json tsconfig.json ./
COPY packages/ packages/
COPY apps/ apps/

# ---- runtime: node, the sources and their production node_modules; non-root ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    RUNE_HEALTH_URL=https://127.0.0.1:50080/health/live
RUN groupadd --system --gid 10001 rune \
 && useradd --system --uid 10001 --gid rune --home-dir /var/lib/rune --shell /usr/sbin/nologin rune \
 && mkdir -p /var/lib/rune/vault /var/lib/rune/index /var/lib/rune/trust \
 && chown -R rune:rune /var/lib/rune \
 && chmod 0700 /var/lib/rune
WORKDIR /app
COPY --from=build --chown=root:root /app /app
USER 10001:10001
VOLUME ["/var/lib/rune"]
EXPOSE 50080 50090
# No curl in slim images: node itself asks the service. The services present their own (often
# private-CA) certificate, so this loopback probe does not verify it. The index sets
# RUNE_HEALTH_URL=https://127.0.0.1:50090/health/live.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "require('node:https').get(process.env.RUNE_HEALTH_URL,{rejectUnauthorized:false,timeout:4000},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
ENTRYPOINT ["node", "apps/cli/bin/rune.js"]
CMD ["--help"]
