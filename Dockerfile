# Calico.Bgp: a drop-in for BIRD in calico-node and in route-reflector pods.
# Build:  docker build -t calico-bgp .
# The runtime image carries calico-bgpd and calico-bgpc, and the names calico-node's run scripts
# and probes call (bird, bird6, birdcl, birdcl6) pointing at them.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet publish src/Daemon/Calico.Bgp.Daemon.csproj -c Release -o /out --nologo \
 && dotnet publish src/Cli/Calico.Bgp.Cli.csproj -c Release -o /out --nologo

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
COPY --from=build /out /opt/calico-bgp
RUN ln -s /opt/calico-bgp/calico-bgpd /usr/local/bin/calico-bgpd \
 && ln -s /opt/calico-bgp/calico-bgpc /usr/local/bin/calico-bgpc \
 && ln -s /opt/calico-bgp/calico-bgpd /bin/bird \
 && ln -s /opt/calico-bgp/calico-bgpd /bin/bird6 \
 && ln -s /opt/calico-bgp/calico-bgpc /bin/birdcl \
 && ln -s /opt/calico-bgp/calico-bgpc /bin/birdcl6 \
 && mkdir -p /var/run/calico /etc/calico/confd/config
# calico-node's run script: bird -R -s /var/run/calico/bird.ctl -d -c /etc/calico/confd/config/bird.cfg
ENTRYPOINT ["/bin/bird", "-R", "-s", "/var/run/calico/bird.ctl", "-d", "-c", "/etc/calico/confd/config/bird.cfg"]
