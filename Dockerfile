# One image for every role: the API (default CMD), the worker and the one-shot migration
# (docker-compose.yml overrides the command for those two).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: full install (TypeScript, tsc-alias), compile, then drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused until the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
# The build also bundles the web page (scripts/build-web.js, with esbuild from the dev dependencies).
COPY scripts ./scripts
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled output + production node_modules only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    STORAGE_DIR=/data \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
WORKDIR /app
# A named volume mounted on /data copies this directory's ownership on first use,
# so the non-root user can write uploads there.
RUN mkdir -p /data && chown node:node /data
# Application files stay root-owned: the service user can read them but not change them.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# No HEALTHCHECK here: the same image runs the worker and the migration, which serve no
# HTTP; docker-compose.yml defines the API's health check.
CMD ["npm", "run", "start:api"]
