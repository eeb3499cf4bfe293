from dtml.cli import main

main()
