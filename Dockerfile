# Calico.Bgp: a drop-in for BIRD in calico-node and in route-reflector pods.
#   docker build -t calico-bgp .                          # calico-node drop-in (the default, last stage)
#   docker build -t calico-bgp-rr --target route-reflector .
# Both carry calico-bgpd and calico-bgpc as Native AOT binaries (calico-node's image has no .NET
# runtime; AOT needs none, starts without JIT work and idles in half the memory of a trimmed
# self-contained build: README, "Image and Kubernetes"), and the names calico-node's run scripts
# and probes call: bird, bird6, birdcl, birdcl6. tools/check-image.sh runs the same publish steps
# and checks the result in CI.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Native AOT links with the platform toolchain.
RUN apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet publish src/Daemon/Calico.Bgp.Daemon.csproj -c Release -r linux-x64 -p:PublishAot=true -p:DebugType=none -o /out \
 && dotnet publish src/Cli/Calico.Bgp.Cli.csproj -c Release -r linux-x64 -p:PublishAot=true -p:DebugType=none -o /out

# The files both images share: the binaries and BIRD's names for them.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS base
COPY --from=build /out/calico-bgpd /out/calico-bgpc /opt/calico-bgp/
RUN ln -s /opt/calico-bgp/calico-bgpd /usr/local/bin/calico-bgpd \
 && ln -s /opt/calico-bgp/calico-bgpc /usr/local/bin/calico-bgpc \
 && ln -s /opt/calico-bgp/calico-bgpd /usr/local/bin/bird \
 && ln -s /opt/calico-bgp/calico-bgpd /usr/local/bin/bird6 \
 && ln -s /opt/calico-bgp/calico-bgpc /usr/local/bin/birdcl \
 && ln -s /opt/calico-bgp/calico-bgpc /usr/local/bin/birdcl6
EXPOSE 179 9091

# Route reflector: no kernel routes to program, so it runs as a user of its own; the pod grants
# NET_BIND_SERVICE for port 179 (conf/k8s/route-reflector). The config comes from a ConfigMap.
FROM base AS route-reflector
RUN useradd --system --uid 10001 --home-dir /run/calico-bgp --create-home calico-bgp
USER 10001
ENTRYPOINT ["/usr/local/bin/bird", "-d", "-s", "/run/calico-bgp/bird.ctl", "-c", "/etc/calico-bgp/bird.cfg", "--metrics", "0.0.0.0:9091"]

# calico-node drop-in: calico-node runs BIRD as root (it programs the kernel), with this line.
FROM base AS calico-node
RUN mkdir -p /var/run/calico /etc/calico/confd/config
ENTRYPOINT ["/usr/local/bin/bird", "-R", "-s", "/var/run/calico/bird.ctl", "-d", "-c", "/etc/calico/confd/config/bird.cfg"]
