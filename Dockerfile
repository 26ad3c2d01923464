# scimcheck in a container: a build stage with the Rust toolchain, then a small runtime image
# (distroless: glibc, CA certificates, no shell) that runs as a non-root user.
#
#   docker build --build-arg SCIMCHECK_GIT_COMMIT="$(git rev-parse --short=12 HEAD)" -t scimcheck .
#   docker run --rm -e SCIMCHECK_TOKEN scimcheck run --url https://example.com/scim/v2

FROM rust:1.91-slim-bookworm AS build
# The commit `scimcheck --version` prints (.git is not copied into the image).
ARG SCIMCHECK_GIT_COMMIT=unknown
ENV SCIMCHECK_GIT_COMMIT=${SCIMCHECK_GIT_COMMIT}
WORKDIR /src
COPY . .
RUN cargo install --path . --locked --root /out

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/bin/scimcheck /usr/local/bin/scimcheck
USER nonroot
ENTRYPOINT ["/usr/local/bin/scimcheck"]
CMD ["--help"]
