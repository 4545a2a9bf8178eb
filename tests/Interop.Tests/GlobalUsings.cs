global using Calico.Bgp.Lab;
