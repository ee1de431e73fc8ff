# syntax=docker/dockerfile:1
# Build stage: compile TypeScript.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY config ./config
COPY src ./src
COPY interactions ./interactions
COPY views ./views
RUN npx tsc -p tsconfig.json --outDir dist && npm prune --omit=dev

# Runtime stage: compiled server and production dependencies only, as a non-root user.
FROM node:24-bookworm-slim
# A container is reached through its published port, so it listens on every interface (the embedded-store
# default is 127.0.0.1); the dev mailbox still answers loopback callers only unless DEV_MAILBOX=true.
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node views ./views
COPY --chown=node:node src/i18n/locales ./src/i18n/locales
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
